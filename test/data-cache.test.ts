// The decoded-image cache: hit, miss, invalidation by a changed, added or removed file or by
// other options, and recovery from damaged entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodePng, loadDataset, type Dataset } from '../src/core/data';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rm-cache-'));
}

function png(seed: number, size = 10): Buffer {
  const data = new Uint8Array(size * size);
  for (let i = 0; i < data.length; i++) data[i] = (seed * 53 + i * 5) % 256;
  return encodePng({ width: size, height: size, channels: 1, data });
}

function makeFolder(): string {
  const root = tmpDir();
  ['a', 'b', 'c'].forEach((c, ci) => {
    fs.mkdirSync(path.join(root, c));
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(root, c, `${i}.png`), png(ci * 10 + i));
  });
  return root;
}

function same(a: Dataset, b: Dataset): void {
  assert.deepEqual(b.data.classes, a.data.classes);
  assert.deepEqual(Array.from(b.data.labels), Array.from(a.data.labels));
  assert.equal(b.data.pixels.length, a.data.pixels.length);
  assert.ok(
    b.data.pixels.every((v, i) => v === a.data.pixels[i]),
    'same pixels',
  );
  assert.deepEqual([b.data.height, b.data.width, b.data.channels], [a.data.height, a.data.width, a.data.channels]);
  assert.deepEqual(b.splits, a.splits);
}

function cacheFiles(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f));
}

test('no cache without a cache dir; miss then hit with one; identical data', async () => {
  const root = makeFolder();
  const cacheDir = path.join(tmpDir(), 'nested', 'cache');
  const off = await loadDataset(root);
  assert.equal(off.loadInfo?.cache, 'off');
  const first = await loadDataset(root, { cacheDir });
  assert.equal(first.loadInfo?.cache, 'miss');
  assert.equal(cacheFiles(cacheDir, '.bin').length, 1);
  assert.equal(cacheFiles(cacheDir, '.json').length, 1);
  assert.deepEqual(
    fs.readdirSync(cacheDir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary files left',
  );
  const second = await loadDataset(root, { cacheDir });
  assert.equal(second.loadInfo?.cache, 'hit');
  same(off, first);
  same(first, second);
});

test('a changed, added or removed file invalidates the entry', async () => {
  const root = makeFolder();
  const cacheDir = tmpDir();
  const base = await loadDataset(root, { cacheDir });
  assert.equal(base.loadInfo?.cache, 'miss');

  // Changed content (same size), with a new mtime.
  const f = path.join(root, 'b', '2.png');
  fs.writeFileSync(f, png(99));
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(f, later, later);
  const changed = await loadDataset(root, { cacheDir });
  assert.equal(changed.loadInfo?.cache, 'miss');
  const idx = 4 + 2; // b/2.png
  assert.notEqual(changed.data.pixels[idx * 100 + 1], base.data.pixels[idx * 100 + 1]);
  assert.equal((await loadDataset(root, { cacheDir })).loadInfo?.cache, 'hit');

  fs.writeFileSync(path.join(root, 'c', '9.png'), png(77));
  const added = await loadDataset(root, { cacheDir });
  assert.equal(added.loadInfo?.cache, 'miss');
  assert.equal(added.data.labels.length, 13);

  fs.rmSync(path.join(root, 'a', '0.png'));
  const removed = await loadDataset(root, { cacheDir });
  assert.equal(removed.loadInfo?.cache, 'miss');
  assert.equal(removed.data.labels.length, 12);
  assert.equal((await loadDataset(root, { cacheDir })).loadInfo?.cache, 'hit');
  // One entry per folder and options: the stale ones were replaced, not accumulated.
  assert.equal(cacheFiles(cacheDir, '.bin').length, 1);
});

test('other preprocessing options are separate entries', async () => {
  const root = makeFolder();
  const cacheDir = tmpDir();
  await loadDataset(root, { cacheDir });
  const big = await loadDataset(root, { cacheDir, imageSize: 16, channels: 3 });
  assert.equal(big.loadInfo?.cache, 'miss');
  assert.deepEqual([big.data.height, big.data.width, big.data.channels], [16, 16, 3]);
  assert.equal((await loadDataset(root, { cacheDir })).loadInfo?.cache, 'hit');
  const bigAgain = await loadDataset(root, { cacheDir, imageSize: 16, channels: 3 });
  assert.equal(bigAgain.loadInfo?.cache, 'hit');
  same(big, bigAgain);
  // The split options are not part of the key: the split is computed after loading.
  const counts = await loadDataset(root, { cacheDir, splitCounts: { train: 1, val: 0, test: 2 } });
  assert.equal(counts.loadInfo?.cache, 'hit');
  assert.equal(counts.splits.test.length, 2);
});

test('damaged entries are ignored and rebuilt, never a crash', async () => {
  const root = makeFolder();
  const cacheDir = tmpDir();
  const good = await loadDataset(root, { cacheDir });
  const [bin] = cacheFiles(cacheDir, '.bin');
  const [json] = cacheFiles(cacheDir, '.json');
  const damage: [string, () => void][] = [
    ['truncated binary', () => fs.truncateSync(bin, 100)],
    [
      'flipped byte in the binary',
      () => {
        const b = fs.readFileSync(bin);
        b[b.length - 7] ^= 0x5a;
        fs.writeFileSync(bin, b);
      },
    ],
    ['empty binary', () => fs.writeFileSync(bin, '')],
    ['missing binary', () => fs.rmSync(bin)],
    ['garbage index', () => fs.writeFileSync(json, '{"format": "robust-meta-image-cache", "versi')],
    [
      'index with wrong shape',
      () => {
        const j = JSON.parse(fs.readFileSync(json, 'utf8'));
        j.height = 1e9;
        fs.writeFileSync(json, JSON.stringify(j));
      },
    ],
    ['index that is not an object', () => fs.writeFileSync(json, '42')],
    [
      'binary is a directory',
      () => {
        fs.rmSync(bin);
        fs.mkdirSync(bin);
      },
    ],
  ];
  for (const [what, hurt] of damage) {
    hurt();
    const again = await loadDataset(root, { cacheDir });
    if (what === 'binary is a directory') {
      // Cannot be replaced by a rename over a directory: the load works, with a warning.
      assert.equal(again.loadInfo?.cache, 'miss', what);
      assert.match(again.warnings!.join('\n'), /could not write the image cache/);
      fs.rmSync(bin, { recursive: true });
      continue;
    }
    assert.equal(again.loadInfo?.cache, 'miss', what);
    same(good, again);
    assert.equal((await loadDataset(root, { cacheDir })).loadInfo?.cache, 'hit', `${what}: rebuilt`);
  }
});

test('an unusable cache dir gives a warning, not a failure', async () => {
  const root = makeFolder();
  const file = path.join(tmpDir(), 'a-file');
  fs.writeFileSync(file, 'x');
  const ds = await loadDataset(root, { cacheDir: path.join(file, 'cache') });
  assert.equal(ds.data.labels.length, 12);
  assert.match(ds.warnings!.join('\n'), /could not write the image cache in .*a-file[/\\]cache \(ENOTDIR\)/);
});

test('warnings of the load that wrote the cache come back with a hit', async () => {
  const root = makeFolder();
  fs.writeFileSync(path.join(root, 'a', 'bad.png'), 'not a png');
  fs.writeFileSync(path.join(root, 'a', 'notes.txt'), 'x');
  const cacheDir = tmpDir();
  const first = await loadDataset(root, { cacheDir });
  const second = await loadDataset(root, { cacheDir });
  assert.equal(second.loadInfo?.cache, 'hit');
  assert.deepEqual(second.warnings, first.warnings);
  assert.match(second.warnings!.join('\n'), /skipped a\/bad\.png/);
  assert.match(second.warnings!.join('\n'), /not images were ignored/);
});

test('IDX data resized to another size is cached too', async () => {
  const src = path.resolve(__dirname, '../../data/fashion-mnist-small');
  const cacheDir = tmpDir();
  const first = await loadDataset(src, { cacheDir, imageSize: 14 });
  assert.equal(first.loadInfo?.cache, 'miss');
  const second = await loadDataset(src, { cacheDir, imageSize: 14 });
  assert.equal(second.loadInfo?.cache, 'hit');
  same(first, second);
  assert.equal((await loadDataset(src, { cacheDir })).loadInfo?.cache, 'off', 'no cache needed at the native size');
});
