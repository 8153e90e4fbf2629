// Bad input: every case must end in a UserError that names the file or class and says what to
// do, or in a warning when the loader can work around it. Nothing may hang or crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { isUserError } from '../src/core/errors';
import { encodeBmp, encodePng, gzipDeterministic, encodeIdx, loadDataset } from '../src/core/data';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-bad-'));
}

function png(seed: number, size = 8, channels = 1): Buffer {
  const data = new Uint8Array(size * size * channels);
  for (let i = 0; i < data.length; i++) data[i] = (seed * 31 + i * 7) % 256;
  return encodePng({ width: size, height: size, channels, data });
}

function makeFolder(root: string, classes: string[], perClass: number): void {
  classes.forEach((c, ci) => {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (let i = 0; i < perClass; i++) fs.writeFileSync(path.join(root, c, `${i}.png`), png(ci * 100 + i));
  });
}

async function userError(p: Promise<unknown>, re: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got: ${(e as Error)?.stack ?? e}`);
    assert.match((e as Error).message, re);
    return e as Error;
  }
  assert.fail(`expected a UserError matching ${re}`);
}

test('a path that does not exist', async () => {
  const missing = path.join(tmpDir(), 'no-such-folder');
  await userError(loadDataset(missing), /dataset path .*no-such-folder does not exist; check the path/);
});

test('a file that is neither a folder nor an IDX file', async () => {
  const f = path.join(tmpDir(), 'photo.png');
  fs.writeFileSync(f, png(1));
  await userError(loadDataset(f), /photo\.png is a file; give a folder with one sub-folder of images per class/);
});

test('an empty folder, and a folder with only non-image files', async () => {
  const root = tmpDir();
  await userError(loadDataset(root), /no images found in .*: expected one sub-folder per class/);
  fs.mkdirSync(path.join(root, 'a'));
  fs.mkdirSync(path.join(root, 'b'));
  fs.writeFileSync(path.join(root, 'a', 'notes.txt'), 'hello');
  fs.writeFileSync(path.join(root, 'README.md'), '# data');
  await userError(loadDataset(root), /no images found in .*notes\.txt/);
});

test('a single class', async () => {
  const root = tmpDir();
  makeFolder(root, ['only'], 5);
  await userError(loadDataset(root), /has a single class \(only\); few-shot tasks need at least 2 classes/);
  // Also through split folders with one class in all.
  const root2 = tmpDir();
  makeFolder(path.join(root2, 'train'), ['solo'], 3);
  await userError(loadDataset(root2), /single class \(solo\)/);
});

test('broken and truncated images are skipped with a warning naming each file; an emptied class is an error', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 4);
  const good = png(5);
  fs.writeFileSync(path.join(root, 'a', 'cut.png'), good.subarray(0, good.length - 20));
  fs.writeFileSync(path.join(root, 'a', 'noise.png'), Buffer.from('this is not a png at all, just text'));
  fs.writeFileSync(path.join(root, 'a', 'empty.jpg'), Buffer.alloc(0));
  const jpg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#884422' } })
    .jpeg()
    .toBuffer();
  fs.writeFileSync(path.join(root, 'b', 'cut.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  const bmp = encodeBmp({ width: 8, height: 8, channels: 3, data: new Uint8Array(192) });
  fs.writeFileSync(path.join(root, 'b', 'cut.bmp'), bmp.subarray(0, 80));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 20] ^= 0xff; // inside the IDAT chunk: CRC mismatch
  fs.writeFileSync(path.join(root, 'b', 'flipped.png'), flipped);
  const ds = await loadDataset(root);
  assert.equal(ds.data.labels.length, 8);
  const w = ds.warnings!.join('\n');
  for (const f of ['a/cut.png', 'a/noise.png', 'a/empty.jpg', 'b/cut.jpg', 'b/cut.bmp', 'b/flipped.png']) {
    assert.match(w, new RegExp(`skipped ${f.replace('.', '\\.')}: `), `warning for ${f}`);
  }
  assert.match(w, /a\/cut\.png: truncated PNG/);
  assert.match(w, /b\/flipped\.png: damaged PNG \(CRC mismatch/);
  assert.match(w, /b\/cut\.bmp: .*truncated BMP|b\/cut\.bmp: not a BMP/);
  assert.match(w, /b\/cut\.jpg: .*(premature end|truncated)/i);

  // badFiles: 'error' names the first bad file in file order (headers are checked first, so the
  // empty file is found before the truncated PNG, whose header is intact).
  await userError(
    loadDataset(root, { badFiles: 'error' }),
    /cannot load image .*[/\\]a[/\\]empty\.jpg: the file is empty \(0 bytes\); fix or remove the file, or load with bad files skipped \(and 2 more bad files\)/,
  );
  await userError(
    loadDataset(root, { badFiles: 'error', imageSize: 8, channels: 1 }),
    /cannot load image .*[/\\]a[/\\]cut\.png: truncated PNG \(.*\(and 5 more bad files\)/,
  );

  // A class whose every file is bad.
  const root2 = tmpDir();
  makeFolder(root2, ['ok1', 'ok2'], 2);
  fs.mkdirSync(path.join(root2, 'broken'));
  fs.writeFileSync(path.join(root2, 'broken', 'x.png'), 'nope');
  fs.writeFileSync(path.join(root2, 'broken', 'y.png'), 'nope');
  await userError(loadDataset(root2), /class broken in .* has no readable images: all 2 of its files failed to load \(first: broken\/x\.png: /);
});

test('non-image files are ignored with one summary warning; top-level files silently', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 3);
  fs.writeFileSync(path.join(root, 'a', 'labels.csv'), 'x');
  fs.writeFileSync(path.join(root, 'b', 'Thumbs.db'), 'x');
  fs.writeFileSync(path.join(root, 'b', '.DS_Store'), 'x');
  fs.writeFileSync(path.join(root, 'LICENSE'), 'MIT');
  const ds = await loadDataset(root);
  assert.equal(ds.data.labels.length, 6);
  assert.equal(ds.warnings!.length, 1);
  assert.match(ds.warnings![0], /2 file\(s\) that are not images were ignored \(e\.g\. a\/labels\.csv, b\/Thumbs\.db\)/);
});

test('a very large image is refused by its header, without decoding it', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 3);
  // A PNG whose header claims 10000 x 9000 (90 megapixels).
  const big = Buffer.from(png(1));
  big.writeUInt32BE(10000, 16);
  big.writeUInt32BE(9000, 20);
  fs.writeFileSync(path.join(root, 'a', 'huge.png'), big);
  // A JPEG whose frame header claims 8000 x 7000 (56 megapixels), for the sharp path.
  const jpg = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#123456' } })
      .jpeg()
      .toBuffer(),
  );
  for (let i = 2; i < jpg.length - 8;) {
    const marker = jpg[i + 1];
    const len = jpg.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      jpg.writeUInt16BE(7000, i + 5);
      jpg.writeUInt16BE(8000, i + 7);
      break;
    }
    i += 2 + len;
  }
  fs.writeFileSync(path.join(root, 'b', 'huge.jpg'), jpg);
  const before = process.memoryUsage().rss;
  const ds = await loadDataset(root);
  assert.ok(process.memoryUsage().rss - before < 200e6, 'no giant allocation');
  assert.equal(ds.data.labels.length, 6);
  const w = ds.warnings!.join('\n');
  assert.match(w, /skipped a\/huge\.png: image is 10000x9000 \(90\.0 megapixels\), over the limit of 50\.0 megapixels: shrink it, or raise the pixel limit/);
  assert.match(w, /skipped b\/huge\.jpg: .*pixel limit/i);
  // The limit is an option.
  fs.writeFileSync(path.join(root, 'b', 'twelve.png'), png(3, 12));
  const small = await loadDataset(root, { maxPixels: 100, imageSize: 8 });
  assert.equal(small.data.labels.length, 6);
  assert.match(small.warnings!.join('\n'), /skipped b\/twelve\.png: image is 12x12 \(144 pixels\), over the limit of 100 pixels/);
});

test('a symbolic link loop does not hang; the loop is skipped with a warning', async (t) => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 3);
  try {
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'a', 'loop'));
    fs.symlinkSync(root, path.join(root, 'b', 'up'));
    fs.symlinkSync('self', path.join(root, 'b', 'self'));
  } catch (e) {
    t.skip(`cannot create symbolic links here (${(e as Error).message})`);
    return;
  }
  const ds = await loadDataset(root);
  assert.equal(ds.data.labels.length, 6);
  const w = ds.warnings!.join('\n');
  assert.match(w, /a\/loop leads back to a folder already read/);
  assert.match(w, /b\/up leads back to a folder already read/);
  assert.match(w, /b\/self is a broken or looping symbolic link/);
});

test('symbolic links that leave the data folder are not followed: skipped with a warning naming them', async (t) => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 3);
  const outside = tmpDir();
  makeFolder(outside, ['stolen'], 4);
  try {
    // A class linked to a folder outside (as a class linked to / would read the whole disk),
    // an image linked to a file outside, and a link that stays inside (followed).
    fs.symlinkSync(path.join(outside, 'stolen'), path.join(root, 'c'));
    fs.symlinkSync(path.join(outside, 'stolen', fs.readdirSync(path.join(outside, 'stolen'))[0]), path.join(root, 'a', 'outside.png'));
    fs.symlinkSync(path.join(root, 'b'), path.join(root, 'b-again'));
  } catch (e) {
    t.skip(`cannot create symbolic links here (${(e as Error).message})`);
    return;
  }
  const ds = await loadDataset(root);
  assert.deepEqual(ds.data.classes, ['a', 'b']);
  assert.equal(ds.data.labels.length, 6, 'only the 6 images inside the folder');
  const w = ds.warnings!.join('\n');
  assert.match(w, /^c is a symbolic link to .*, outside the dataset folder; skipped/m);
  assert.match(w, /a\/outside\.png is a symbolic link to .*, outside the dataset folder; skipped/);
  assert.match(w, /b-again leads back to a folder already read/);
});

test('a FIFO named like an image is not read (it would block forever)', async (t) => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 2);
  try {
    execFileSync('mkfifo', [path.join(root, 'a', 'pipe.png')]);
  } catch {
    t.skip('mkfifo is not available');
    return;
  }
  const ds = await loadDataset(root);
  assert.equal(ds.data.labels.length, 4);
});

test('an unreadable file is skipped with a warning that says to check permissions', async (t) => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 3);
  const f = path.join(root, 'a', 'secret.png');
  fs.writeFileSync(f, png(9));
  fs.chmodSync(f, 0o000);
  let readable = false;
  try {
    fs.readFileSync(f);
    readable = true;
  } catch {
    // As expected for a normal user.
  }
  const expected = /skipped a\/secret\.png: cannot read the file \(EACCES: permission denied\); check its permissions/;
  if (!readable) {
    const ds = await loadDataset(root);
    assert.equal(ds.data.labels.length, 6);
    assert.match(ds.warnings!.join('\n'), expected);
    return;
  }
  // Root reads files whatever their mode, so chmod 000 does not make this one unreadable to us.
  // Load it instead in a child process that runs as the unprivileged user 'nobody' (uid 65534).
  if (process.getuid?.() !== 0) {
    t.skip(
      'this user can read a file with mode 000 (CAP_DAC_OVERRIDE?) and is not root, so it cannot drop to an unprivileged user to test the unreadable-file path',
    );
    return;
  }
  fs.chmodSync(root, 0o755);
  for (const d of ['a', 'b']) fs.chmodSync(path.join(root, d), 0o755);
  for (const d of ['a', 'b']) for (const name of fs.readdirSync(path.join(root, d))) if (name !== 'secret.png') fs.chmodSync(path.join(root, d, name), 0o644);
  const loader = path.resolve(__dirname, '../src/core/data/load.js');
  const script = `require(${JSON.stringify(loader)}).loadDataset(${JSON.stringify(root)}).then((d) => console.log(JSON.stringify({ n: d.data.labels.length, warnings: d.warnings })), (e) => { console.log(JSON.stringify({ error: e.message })); })`;
  let out: string;
  try {
    out = execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', cwd: root });
  } catch (e) {
    t.skip(
      `running as root, and cannot run the loader as the unprivileged user 'nobody' (${(e as Error).message.split('\n')[0]}), so there is no unreadable file to test`,
    );
    return;
  }
  const res = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(res.error, undefined, res.error);
  assert.equal(res.n, 6);
  assert.match(res.warnings.join('\n'), expected);
});

test('split folders mixed with class folders', async () => {
  const root = tmpDir();
  makeFolder(path.join(root, 'train'), ['a', 'b'], 2);
  makeFolder(root, ['cats'], 2);
  await userError(loadDataset(root), /mixes split folders \(train\) with other folders \(cats\)/);
});

test('bad options', async () => {
  const root = tmpDir();
  makeFolder(root, ['a', 'b'], 2);
  await userError(loadDataset(root, { imageSize: 0 }), /image size must be a whole number from 1 to 4096, got 0/);
  await userError(loadDataset(root, { channels: 2 as 1 }), /channels must be 1 \(grey\) or 3 \(RGB\), got 2/);
  await userError(loadDataset(root, { splitCounts: { train: 2, val: 1, test: 1 } }), /exceed the 2 classes/);
});

test('damaged IDX files', async () => {
  const root = tmpDir();
  const px = new Uint8Array(4 * 3 * 3);
  const images = encodeIdx([4, 3, 3], px);
  const labels = encodeIdx([4], Uint8Array.from([0, 1, 0, 1]));
  const write = (img: Buffer, lab: Buffer) => {
    fs.writeFileSync(path.join(root, 'x-images-idx3-ubyte'), img);
    fs.writeFileSync(path.join(root, 'x-labels-idx1-ubyte.gz'), gzipDeterministic(lab));
  };
  write(images, labels);
  const ok = await loadDataset(root);
  assert.equal(ok.data.labels.length, 4);
  assert.deepEqual(ok.data.classes, ['0', '1']);
  assert.equal(ok.splitOrigin, 'seeded');
  write(images.subarray(0, images.length - 5), labels);
  await userError(loadDataset(root), /x-images-idx3-ubyte is truncated: its header says 4x3x3 values/);
  write(images, encodeIdx([3], Uint8Array.from([0, 1, 0])));
  await userError(loadDataset(root), /has 4 images but .*x-labels-idx1-ubyte\.gz has 3 labels/);
  write(Buffer.from('garbage!'), labels);
  await userError(loadDataset(root), /x-images-idx3-ubyte is not an IDX file/);
  fs.writeFileSync(path.join(root, 'x-labels-idx1-ubyte.gz'), gzipDeterministic(labels).subarray(0, 12));
  fs.writeFileSync(path.join(root, 'x-images-idx3-ubyte'), images);
  await userError(loadDataset(root), /x-labels-idx1-ubyte\.gz is a damaged or truncated gzip file/);
  fs.rmSync(path.join(root, 'x-labels-idx1-ubyte.gz'));
  await userError(loadDataset(root), /has no labels file next to it/);
  write(images, encodeIdx([4], Uint8Array.from([1, 1, 1, 1])));
  await userError(loadDataset(root), /has a single class \(label 1\)/);
});
