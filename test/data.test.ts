// Loading image folders and IDX files, formats, resizing and channel conversion, class splits,
// seeded episodes and their validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { isUserError } from '../src/core/errors';
import { Rng } from '../src/core/rng';
import {
  encodeBmp,
  encodePng,
  episodeAt,
  imagesByClass,
  loadDataset,
  sampleEpisode,
  seededSplit,
  splitCountsFromFractions,
  validateForEpisodes,
  type Dataset,
  type ImageSet,
} from '../src/core/data';

const DATA = path.resolve(__dirname, '../../data');

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-data-'));
}

/** A w x h image with channels 1 or 3 whose pixels encode (seed, position). */
function pattern(w: number, h: number, channels: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * channels);
  for (let i = 0; i < out.length; i++) out[i] = (seed * 37 + i * 11) % 256;
  return out;
}

function writePng(file: string, w: number, h: number, channels: number, seed: number): Uint8Array {
  const data = pattern(w, h, channels, seed);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodePng({ width: w, height: h, channels, data }));
  return data;
}

/** A flat folder: classes x perClass PNGs of size x size grey. */
function makeFolder(root: string, classes: string[], perClass: number, size = 8): void {
  classes.forEach((c, ci) => {
    for (let i = 0; i < perClass; i++) writePng(path.join(root, c, `${i}.png`), size, size, 1, ci * 100 + i);
  });
}

async function expectUserError(p: Promise<unknown> | (() => unknown), re: RegExp): Promise<void> {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${e}`);
    assert.match((e as Error).message, re);
    return;
  }
  assert.fail(`expected a UserError matching ${re}`);
}

test('loads the bundled IDX subset with the documented built-in split', async () => {
  const ds = await loadDataset(path.join(DATA, 'fashion-mnist-small'));
  assert.equal(ds.name, 'fashion-mnist-small');
  assert.equal(ds.data.labels.length, 2000);
  assert.deepEqual([ds.data.height, ds.data.width, ds.data.channels], [28, 28, 1]);
  // named by its classes.txt
  assert.deepEqual(ds.data.classes, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  assert.equal(ds.splitOrigin, 'builtin');
  assert.deepEqual(ds.splits, { train: [0, 1, 2, 5, 8], val: [], test: [3, 4, 6, 7, 9] });
  assert.equal(ds.data.pixels.length, 2000 * 784);
  let min = Infinity;
  let max = -Infinity;
  for (const v of ds.data.pixels) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  assert.ok(min === 0 && max > 230, `8-bit pixels, got ${min}..${max}`);
  for (const members of imagesByClass(ds.data)) assert.equal(members.length, 200);
  assert.deepEqual(ds.warnings, []);
  assert.equal(ds.loadInfo?.kind, 'idx');
  // The images file alone also works, and split counts override the built-in split.
  const single = await loadDataset(path.join(DATA, 'fashion-mnist-small', 'fashion-mnist-small-images-idx3-ubyte.gz'), {
    splitCounts: { train: 6, val: 1, test: 3 },
  });
  assert.equal(single.data.labels.length, 2000);
  assert.equal(single.splitOrigin, 'seeded');
  assert.deepEqual([single.splits.train.length, single.splits.val.length, single.splits.test.length], [6, 1, 3]);
});

test('IDX class names: label numbers without classes.txt, and a classes.txt that does not name every label is not used', async () => {
  const dir = tmpDir();
  for (const f of fs.readdirSync(path.join(DATA, 'fashion-mnist-small')).filter((n) => n.endsWith('.gz'))) {
    fs.copyFileSync(path.join(DATA, 'fashion-mnist-small', f), path.join(dir, f));
  }
  let ds = await loadDataset(dir);
  assert.deepEqual(ds.data.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(ds.splitOrigin, 'builtin');
  fs.writeFileSync(path.join(dir, 'classes.txt'), 'a\nb\nc\n');
  ds = await loadDataset(dir);
  assert.equal(ds.data.classes[9], '9');
  assert.match(ds.warnings!.join('\n'), /classes\.txt names 3 labels, but the labels go up to 9 \(no name for 3, 4, 5, 6, 7\); using label numbers/);
  fs.writeFileSync(path.join(dir, 'classes.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\na\n');
  ds = await loadDataset(dir);
  assert.match(ds.warnings!.join('\n'), /gives two labels the same name/);
  // the built-in split does not depend on the names
  fs.writeFileSync(path.join(dir, 'classes.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n');
  ds = await loadDataset(dir);
  assert.equal(ds.data.classes[4], 'e');
  assert.equal(ds.splitOrigin, 'builtin');
  assert.deepEqual(ds.warnings, []);
});

test('IDX at another size and as RGB', async () => {
  const ds = await loadDataset(path.join(DATA, 'fashion-mnist-small'), { imageSize: 32, channels: 3 });
  assert.deepEqual([ds.data.height, ds.data.width, ds.data.channels], [32, 32, 3]);
  assert.equal(ds.data.pixels.length, 2000 * 32 * 32 * 3);
  // Grey replicated: R = G = B.
  for (let i = 0; i < 3000; i += 3) {
    assert.equal(ds.data.pixels[i], ds.data.pixels[i + 1]);
    assert.equal(ds.data.pixels[i], ds.data.pixels[i + 2]);
  }
});

test('loads the bundled glyphs folder, with a seeded 60/20/20 class split', async () => {
  const ds = await loadDataset(path.join(DATA, 'glyphs'));
  assert.equal(ds.data.classes.length, 24);
  assert.equal(ds.data.labels.length, 960);
  assert.deepEqual([ds.data.height, ds.data.width, ds.data.channels], [28, 28, 1]);
  assert.equal(ds.splitOrigin, 'seeded');
  assert.deepEqual([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length], [14, 5, 5]);
  const all = [...ds.splits.train, ...ds.splits.val, ...ds.splits.test].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 24 }, (_, i) => i),
  );
  assert.deepEqual(ds.warnings, []);
  // A different split seed gives a different split; the same seed the same.
  const again = await loadDataset(path.join(DATA, 'glyphs'), { splitSeed: 0 });
  assert.deepEqual(again.splits, ds.splits);
  const other = await loadDataset(path.join(DATA, 'glyphs'), { splitSeed: 1 });
  assert.notDeepEqual(other.splits, ds.splits);
  const rgb = await loadDataset(path.join(DATA, 'glyphs'), { imageSize: 32, channels: 3 });
  assert.deepEqual([rgb.data.height, rgb.data.width, rgb.data.channels], [32, 32, 3]);
});

test('decodes png, jpeg, webp, gif, tiff and bmp; pixels of lossless formats are exact', async () => {
  const root = tmpDir();
  const w = 12;
  const h = 10;
  const grey = pattern(w, h, 1, 3);
  const rgb = pattern(w, h, 3, 4);
  const expected = new Map<string, Uint8Array>();
  const put = async (rel: string, buf: Buffer, exact?: Uint8Array) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), buf);
    if (exact) expected.set(rel, exact);
  };
  const raw = (d: Uint8Array, c: 1 | 3) => sharp(Buffer.from(d), { raw: { width: w, height: h, channels: c } });
  await put('a/ours.png', encodePng({ width: w, height: h, channels: 3, data: rgb }), rgb);
  await put('a/sharp.png', await raw(rgb, 3).png({ compressionLevel: 1 }).toBuffer(), rgb);
  await put('a/palette.png', await raw(rgb, 3).png({ palette: true, colours: 256, dither: 0 }).toBuffer());
  await put('a/interlaced.png', await raw(rgb, 3).png({ progressive: true }).toBuffer(), rgb);
  await put('a/rgba.png', await raw(rgb, 3).ensureAlpha(0.5).png().toBuffer(), rgb);
  await put('a/photo.jpg', await raw(rgb, 3).jpeg({ quality: 95 }).toBuffer());
  await put('a/photo.jpeg', await raw(rgb, 3).jpeg().toBuffer());
  await put('b/lossless.webp', await raw(rgb, 3).webp({ lossless: true }).toBuffer(), rgb);
  await put('b/anim.gif', await raw(rgb, 3).gif().toBuffer());
  await put('b/scan.tiff', await raw(rgb, 3).tiff({ compression: 'lzw' }).toBuffer(), rgb);
  await put('b/scan.tif', await raw(rgb, 3).tiff({ compression: 'none' }).toBuffer(), rgb);
  await put('b/jpeg-in.tif', await raw(rgb, 3).tiff({ compression: 'jpeg' }).toBuffer());
  await put('b/bitmap24.bmp', encodeBmp({ width: w, height: h, channels: 3, data: rgb }), rgb);
  await put('b/grey8.bmp', encodeBmp({ width: w, height: h, channels: 1, data: grey }));
  const ds = await loadDataset(root, { channels: 3 });
  assert.deepEqual(ds.data.classes, ['a', 'b']);
  assert.equal(ds.data.labels.length, 14);
  assert.deepEqual([ds.data.height, ds.data.width, ds.data.channels], [h, w, 3]);
  assert.deepEqual(ds.warnings, []);
  const order = [
    'a/interlaced.png',
    'a/ours.png',
    'a/palette.png',
    'a/photo.jpeg',
    'a/photo.jpg',
    'a/rgba.png',
    'a/sharp.png',
    'b/anim.gif',
    'b/bitmap24.bmp',
    'b/grey8.bmp',
    'b/jpeg-in.tif',
    'b/lossless.webp',
    'b/scan.tif',
    'b/scan.tiff',
  ];
  const size = w * h * 3;
  order.forEach((rel, i) => {
    const got = Array.from(ds.data.pixels.subarray(i * size, (i + 1) * size));
    const want = expected.get(rel);
    if (want) assert.deepEqual(got, Array.from(want), `${rel} decodes exactly`);
    else {
      // Lossy or quantised formats: close on average.
      const ref = rel === 'b/grey8.bmp' ? Array.from(grey).flatMap((v) => [v, v, v]) : Array.from(rgb);
      const mad = got.reduce((a, v, j) => a + Math.abs(v - ref[j]), 0) / got.length;
      assert.ok(mad < 40, `${rel}: mean abs difference ${mad}`);
    }
  });
});

test('mixed sizes and channel counts: most common size, majority channels, with warnings; or the requested target', async () => {
  const root = tmpDir();
  for (let i = 0; i < 5; i++) writePng(path.join(root, 'x', `${i}.png`), 16, 16, 1, i);
  for (let i = 0; i < 3; i++) writePng(path.join(root, 'y', `${i}.png`), 16, 16, 1, 10 + i);
  const colour = pattern(24, 20, 3, 7);
  await sharp(Buffer.from(colour), { raw: { width: 24, height: 20, channels: 3 } })
    .jpeg()
    .toFile(path.join(root, 'y', 'big.jpg'));
  writePng(path.join(root, 'y', 'rgb.png'), 16, 16, 3, 9);
  const ds = await loadDataset(root);
  assert.deepEqual([ds.data.height, ds.data.width, ds.data.channels], [16, 16, 1]);
  assert.equal(ds.data.labels.length, 10);
  const w = ds.warnings!.join('\n');
  assert.match(w, /2 sizes .*24x20 \(1\).*1 were resized to 16x16/);
  assert.match(w, /2 colour image\(s\) were converted to grey/);
  // RGB -> grey uses 601 luma.
  const rgbIndex = 9; // y/rgb.png sorts after y/big.jpg, y/0..2.png
  const src = pattern(16, 16, 3, 9);
  const luma = Math.round((src[0] * 299 + src[1] * 587 + src[2] * 114) / 1000);
  assert.equal(ds.data.pixels[rgbIndex * 256], luma);

  const target = await loadDataset(root, { imageSize: 20, channels: 3 });
  assert.deepEqual([target.data.height, target.data.width, target.data.channels], [20, 20, 3]);
  assert.deepEqual(target.warnings, []);
});

test('train/val/test folder levels give the splits', async () => {
  const root = tmpDir();
  makeFolder(path.join(root, 'train'), ['a', 'b', 'c'], 3);
  makeFolder(path.join(root, 'val'), ['d'], 3);
  makeFolder(path.join(root, 'test'), ['e', 'f'], 3);
  const ds = await loadDataset(root);
  assert.equal(ds.splitOrigin, 'folders');
  assert.deepEqual(ds.data.classes, ['a', 'b', 'c', 'd', 'e', 'f']);
  assert.deepEqual(ds.splits, { train: [0, 1, 2], val: [3], test: [4, 5] });
  // A split file overrides the folders.
  const file = path.join(root, 'my-split.json');
  fs.writeFileSync(file, JSON.stringify({ train: ['a', 'f'], test: ['b', 'c', 'd'] }));
  const viaFile = await loadDataset(root, { splitFile: file });
  assert.equal(viaFile.splitOrigin, 'split-file');
  assert.deepEqual(viaFile.splits, { train: [0, 5], val: [], test: [1, 2, 3] });
  assert.match(viaFile.warnings!.join('\n'), /1 class\(es\) are in no split .*\(e\)/);
});

test('split folders that share class names split images, not classes: merged, with a warning', async () => {
  const root = tmpDir();
  makeFolder(path.join(root, 'train'), ['cat', 'dog', 'eel'], 2);
  makeFolder(path.join(root, 'test'), ['cat', 'dog', 'eel'], 1);
  const ds = await loadDataset(root);
  assert.deepEqual(ds.data.classes, ['cat', 'dog', 'eel']);
  assert.equal(ds.data.labels.length, 9);
  assert.equal(ds.splitOrigin, 'seeded');
  assert.match(ds.warnings!.join('\n'), /more than one split folder/);
});

test('splits.json in the dataset folder is used; seeded splits by fractions and counts', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b', 'c', 'd'], 2);
  fs.writeFileSync(path.join(root, 'splits.json'), JSON.stringify({ train: ['a', 'b'], val: [], test: ['c', 'd'] }));
  const ds = await loadDataset(root);
  assert.equal(ds.splitOrigin, 'split-file');
  assert.deepEqual(ds.splits, { train: [0, 1], val: [], test: [2, 3] });
  const frac = await loadDataset(root, { splitFractions: { train: 0.5, val: 0, test: 0.5 }, splitSeed: 3 });
  assert.equal(frac.splitOrigin, 'seeded');
  assert.deepEqual([frac.splits.train.length, frac.splits.val.length, frac.splits.test.length], [2, 0, 2]);

  assert.deepEqual(splitCountsFromFractions(10), { train: 6, val: 2, test: 2 });
  assert.deepEqual(splitCountsFromFractions(3), { train: 1, val: 1, test: 1 });
  assert.deepEqual(splitCountsFromFractions(2), { train: 1, val: 0, test: 1 });
  assert.deepEqual(splitCountsFromFractions(24), { train: 14, val: 5, test: 5 });
  assert.deepEqual(splitCountsFromFractions(10, { train: 5, val: 0, test: 5 }), { train: 5, val: 0, test: 5 });
  const s = seededSplit(10, { train: 5, val: 0, test: 5 }, 42);
  assert.deepEqual(s, seededSplit(10, { train: 5, val: 0, test: 5 }, 42));
  assert.deepEqual(
    [...s.train, ...s.test].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  await expectUserError(() => seededSplit(4, { train: 3, val: 1, test: 1 }, 0), /exceed the 4 classes/);
});

test('split file problems are UserErrors naming the file and the class', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b', 'c'], 2);
  const file = path.join(root, 'split.json');
  fs.writeFileSync(file, JSON.stringify({ train: ['a', 'zebra'], test: ['b'] }));
  await expectUserError(loadDataset(root, { splitFile: file }), /split\.json: class "zebra" in "train" is not in the dataset/);
  fs.writeFileSync(file, JSON.stringify({ train: ['a'], test: ['a'] }));
  await expectUserError(loadDataset(root, { splitFile: file }), /class "a" is listed in both "train" and "test"/);
  fs.writeFileSync(file, '{ train: [');
  await expectUserError(loadDataset(root, { splitFile: file }), /split\.json is not valid JSON/);
  fs.writeFileSync(file, JSON.stringify({ training: ['a'] }));
  await expectUserError(loadDataset(root, { splitFile: file }), /unknown key "training"/);
  await expectUserError(loadDataset(root, { splitFile: path.join(root, 'nope.json') }), /cannot read split file .*nope\.json/);
});

// ------------------------------------------------------------------------------------------
// Episodes

let glyphs: Dataset | undefined;
async function glyphData(): Promise<Dataset> {
  glyphs ??= await loadDataset(path.join(DATA, 'glyphs'));
  return glyphs;
}

function findImage(data: ImageSet, img: Float32Array): number {
  const size = data.height * data.width * data.channels;
  outer: for (let i = 0; i < data.labels.length; i++) {
    for (let j = 0; j < size; j++) if (Math.fround(data.pixels[i * size + j] / 255) !== img[j]) continue outer;
    return i;
  }
  return -1;
}

test('episodes: shapes, labels, classes from the pool, distinct images of the right class', async () => {
  const { data, splits } = await glyphData();
  const spec = { ways: 5, shots: 2, queries: 3 };
  const e = episodeAt(data, splits.test, spec, 11, 0);
  const size = 28 * 28;
  assert.equal(e.support.length, 5 * 2 * size);
  assert.equal(e.query.length, 5 * 3 * size);
  assert.deepEqual(Array.from(e.supportLabels), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  assert.deepEqual(Array.from(e.queryLabels), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  assert.deepEqual(
    [...e.classes].sort((a, b) => a - b),
    [...splits.test].sort((a, b) => a - b),
  );
  const seen = new Set<number>();
  const check = (arr: Float32Array, labels: Int32Array) => {
    for (let k = 0; k < labels.length; k++) {
      const idx = findImage(data, arr.subarray(k * size, (k + 1) * size));
      assert.ok(idx >= 0);
      assert.equal(data.labels[idx], e.classes[labels[k]]);
      assert.ok(!seen.has(idx), 'no image twice in one episode');
      seen.add(idx);
    }
  };
  check(e.support, e.supportLabels);
  check(e.query, e.queryLabels);
});

test('episodes are reproducible: same (seed, index) same arrays, any order; different index or seed differs', async () => {
  const { data, splits } = await glyphData();
  const spec = { ways: 5, shots: 1, queries: 15 };
  const a = episodeAt(data, splits.train, spec, 7, 3);
  for (let i = 0; i < 3; i++) episodeAt(data, splits.train, spec, 7, i);
  const b = episodeAt(data, splits.train, spec, 7, 3);
  assert.deepEqual(b, a);
  const c = episodeAt(data, splits.train, spec, 7, 4);
  assert.notDeepEqual(Array.from(c.support), Array.from(a.support));
  const d = episodeAt(data, splits.train, spec, 8, 3);
  assert.notDeepEqual(Array.from(d.support), Array.from(a.support));
  // sampleEpisode with an Rng is the same stream.
  assert.deepEqual(sampleEpisode(data, splits.train, spec, new Rng([7, 3])), a);
  // Pinned values, so that a change to the sampler (which would change every reported result) is noticed.
  assert.deepEqual(a.classes, PINNED_CLASSES);
  let sum = 0;
  for (const v of a.support) sum += v;
  assert.equal(Math.round(sum * 255), PINNED_SUPPORT_SUM);
});

const PINNED_CLASSES = [1, 11, 4, 10, 0];
const PINNED_SUPPORT_SUM = 86796;

test('validateForEpisodes names the split, the classes and the fix', async () => {
  const ds = await glyphData();
  validateForEpisodes(ds, 'test', { ways: 5, shots: 5, queries: 15 });
  await expectUserError(
    () => validateForEpisodes(ds, 'test', { ways: 6, shots: 1, queries: 1 }),
    /test split of dataset glyphs .* has 5 classes .* but tasks are 6-way: lower the ways to at most 5/,
  );
  await expectUserError(
    () => validateForEpisodes(ds, 'test', { ways: 5, shots: 20, queries: 21 }),
    /5 classes have fewer than shots \+ queries = 20 \+ 21 = 41 images: glyph-\d\d \(40\)/,
  );
  const idx = await loadDataset(path.join(DATA, 'fashion-mnist-small'));
  await expectUserError(() => validateForEpisodes(idx, 'val', { ways: 5, shots: 1, queries: 15 }), /val split .* has 0 classes but tasks are 5-way/);
  await expectUserError(() => validateForEpisodes(ds, 'test', { ways: 5, shots: 0, queries: 15 }), /shots must be a whole number >= 1/);
  // One class short of images, named.
  const root = tmpDir();
  makeFolder(root, ['many', 'more', 'few'], 6);
  fs.rmSync(path.join(root, 'few', '5.png'));
  fs.rmSync(path.join(root, 'few', '4.png'));
  const small = await loadDataset(root, { splitCounts: { train: 0, val: 0, test: 3 } });
  await expectUserError(
    () => validateForEpisodes(small, 'test', { ways: 3, shots: 1, queries: 5 }),
    /1 class has fewer than shots \+ queries = 1 \+ 5 = 6 images: few \(4\)/,
  );
  await expectUserError(() => episodeAt(small.data, small.splits.test, { ways: 3, shots: 1, queries: 5 }, 0, 0), /few \(4\)/);
});

test('a load can be cancelled and reports progress', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 150);
  const seen: number[] = [];
  const full = await loadDataset(root, { onProgress: (done, total) => seen.push(done / total) });
  assert.equal(full.data.labels.length, 300);
  assert.equal(seen[seen.length - 1], 1);
  assert.ok(
    seen.every((v, i) => i === 0 || v >= seen[i - 1]),
    'progress only grows',
  );
  const ac = new AbortController();
  await assert.rejects(
    loadDataset(root, {
      signal: ac.signal,
      onProgress: (done) => {
        if (done > 0) ac.abort(new Error('stopped by the user'));
      },
    }),
    /stopped by the user/,
  );
});
