// Seeded fuzzing of the hand-written readers of untrusted bytes (a dataset folder or a run folder
// someone sent): PNG, BMP and IDX decoding, the checkpoint header and the image-cache index.
// Valid files are mutated (bytes flipped or set to edge values, 32-bit fields set to huge or zero,
// regions cut, duplicated or inserted, truncations, and for PNG the chunk CRCs recomputed so that
// the mutation reaches the decoder behind them). Every case must end in a result or a clear error:
// no hang, no TypeError or RangeError, no stack trace as the message, no output far beyond the
// input's size; errors of the readers that take a file name name the file.
//
// `npm test` runs a few hundred cases per format; `npm run fuzz` runs this file alone with
// `--cases 10000`. The same seed gives the same cases: a failure names its seed and case.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { resolveConfig } from '../src/core/config';
import { decodeBmp, decodePng, encodeBmp, encodeIdx, encodePng, gzipDeterministic, loadDataset, parseIdx, readIdxFile } from '../src/core/data';
import { cachePaths, readCache, writeCache } from '../src/core/data/cache';
import { crc32 } from '../src/core/checksum';
import { isUserError } from '../src/core/errors';
import { LearnerState } from '../src/core/meta/learner';
import { checkCheckpointMatches, decodeCheckpoint, encodeCheckpoint, readCheckpointHeader } from '../src/runner/checkpoint';

function argCases(): number | undefined {
  const i = process.argv.indexOf('--cases');
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
}
const CASES = argCases() ?? 300;
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
/** A case that takes longer than this is a hang in the making. */
const CASE_MS = 2000;
const MAX_PIXELS = 64 * 64;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const EDGE_U32 = [0, 1, 0x7fffffff, 0x80000000, 0x80000010, 0xffffffff, 0xfffffff0, 65536];

/** A mutation of `src`: 1 to 4 random edits, biased to the first `headBytes` (where headers live). */
function mutate(src: Uint8Array, r: () => number, headBytes = src.length): Uint8Array {
  let b = Buffer.from(src);
  const at = (n = b.length) => Math.floor((r() < 0.6 ? Math.min(n, headBytes) : n) * r());
  const edits = 1 + Math.floor(r() * 4);
  for (let k = 0; k < edits && b.length > 0; k++) {
    const op = Math.floor(r() * 7);
    if (op === 0) b[at()] ^= 1 << Math.floor(r() * 8);
    else if (op === 1) b[at()] = EDGE_BYTES[Math.floor(r() * EDGE_BYTES.length)];
    else if (op === 2 && b.length >= 4) b.writeUInt32BE(EDGE_U32[Math.floor(r() * EDGE_U32.length)], Math.min(at(), b.length - 4));
    else if (op === 3 && b.length >= 4) b.writeUInt32LE(EDGE_U32[Math.floor(r() * EDGE_U32.length)], Math.min(at(), b.length - 4));
    else if (op === 4) b = b.subarray(0, at(b.length));
    else if (op === 5) {
      const from = at();
      const len = Math.floor(r() * 64);
      b = Buffer.concat([b.subarray(0, from), b.subarray(from, from + len), b.subarray(from)]);
    } else {
      const from = at();
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 16) }, () => Math.floor(r() * 256)));
      b = Buffer.concat([b.subarray(0, from), junk, b.subarray(from)]);
    }
  }
  return b;
}

/** Recomputes the CRC of every PNG chunk that fits, so that a mutation gets past the CRC check. */
function fixPngCrcs(buf: Uint8Array): Uint8Array {
  const b = Buffer.from(buf);
  for (let pos = 8; pos + 12 <= b.length;) {
    const len = b.readUInt32BE(pos);
    const end = pos + 8 + len;
    if (end + 4 > b.length) break;
    b.writeUInt32BE(crc32(b, pos + 4, end), end);
    pos = end + 4;
  }
  return b;
}

/** Runs one case; `check` sees the value or the error. Fails with the seed and case on a bad outcome. */
function runCase<T>(name: string, i: number, input: Uint8Array, fn: () => T, checkValue: (v: T) => void, checkError: (e: Error) => void): void {
  const where = `${name} case ${i} (seed ${SEED}, ${input.length} bytes)`;
  const t0 = Date.now();
  let value: T | undefined;
  let error: unknown;
  try {
    value = fn();
  } catch (e) {
    error = e;
  }
  const ms = Date.now() - t0;
  assert.ok(ms < CASE_MS, `${where} took ${ms} ms`);
  if (error === undefined) {
    checkValue(value as T);
    return;
  }
  assert.ok(error instanceof Error, `${where} threw a non-Error ${String(error)}`);
  const e = error as Error;
  // A JavaScript engine error means the reader trusted a field it should have checked.
  assert.ok(e.constructor === Error || isUserError(e), `${where}: ${e.constructor.name}: ${e.message}\n${e.stack}`);
  assert.ok(e.message.length > 0 && e.message.length < 2000, `${where}: an unclear message: ${e.message.slice(0, 2100)}`);
  assert.doesNotMatch(e.message, /\bundefined\b|\bNaN\b|\n\s+at /, `${where}: ${e.message}`);
  checkError(e);
}

function image(seed: number, width: number, height: number, channels: number) {
  const r = rng(seed);
  return { width, height, channels, data: new Uint8Array(width * height * channels).map(() => Math.floor(r() * 256)) };
}

function checkRaw(where: string, img: { width: number; height: number; channels: number; data: Uint8Array }): void {
  assert.ok(img.width > 0 && img.height > 0 && img.width * img.height <= MAX_PIXELS, `${where}: size ${img.width}x${img.height}`);
  assert.ok(img.channels === 1 || img.channels === 3, `${where}: ${img.channels} channels`);
  assert.equal(img.data.length, img.width * img.height * img.channels, `${where}: data length`);
}

test(`fuzz PNG decoding: ${CASES} mutated files`, () => {
  const r = rng(SEED);
  const bases = [encodePng(image(1, 16, 16, 1)), encodePng(image(2, 12, 9, 3)), encodePng(image(3, 1, 40, 1))];
  for (let i = 0; i < CASES; i++) {
    let input = mutate(bases[i % bases.length], r, 64);
    if (r() < 0.5) input = fixPngCrcs(input);
    runCase(
      'PNG',
      i,
      input,
      () => decodePng(input, MAX_PIXELS),
      (img) => checkRaw(`PNG case ${i}`, img),
      () => {},
    );
  }
});

test(`fuzz BMP decoding: ${CASES} mutated files`, () => {
  const r = rng(SEED + 1);
  const bases = [encodeBmp(image(4, 16, 16, 1)), encodeBmp(image(5, 7, 5, 3)), encodeBmp(image(6, 33, 2, 3))];
  for (let i = 0; i < CASES; i++) {
    const input = mutate(bases[i % bases.length], r, 64);
    runCase(
      'BMP',
      i,
      input,
      () => decodeBmp(input, MAX_PIXELS),
      (img) => checkRaw(`BMP case ${i}`, img),
      () => {},
    );
  }
});

test('fuzz PNG and BMP through the loader: a damaged image is an error naming its file', async () => {
  const r = rng(SEED + 2);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-load-'));
  const n = Math.min(40, Math.max(10, Math.floor(CASES / 100)));
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, String(i));
    for (const c of ['a', 'b']) fs.mkdirSync(path.join(dir, c), { recursive: true });
    const good = (k: number) => encodePng(image(100 + k, 8, 8, 1));
    fs.writeFileSync(path.join(dir, 'a', '0.png'), good(0));
    fs.writeFileSync(path.join(dir, 'b', '0.png'), good(1));
    const bad = i % 2 ? fixPngCrcs(mutate(good(2), r, 48)) : mutate(encodeBmp(image(7, 8, 8, 1)), r, 64);
    const name = path.join(dir, 'a', `bad.${i % 2 ? 'png' : 'bmp'}`);
    fs.writeFileSync(name, bad);
    try {
      await loadDataset(dir, { imageSize: 8, channels: 1, badFiles: 'error', maxPixels: MAX_PIXELS });
    } catch (e) {
      assert.ok(isUserError(e), `case ${i}: ${(e as Error).stack}`);
      assert.ok((e as Error).message.includes(name), `case ${i}: the error names ${name}: ${(e as Error).message}`);
      assert.doesNotMatch((e as Error).message, /\n\s+at /);
    }
  }
});

test(`fuzz IDX parsing: ${CASES} mutated files (and gzipped ones)`, () => {
  const r = rng(SEED + 3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-idx-'));
  const bases = [
    encodeIdx([5, 4, 4], image(8, 4, 4, 5).data),
    encodeIdx([6], new Uint8Array([0, 1, 2, 3, 4, 5])),
    encodeIdx([2, 3, 3, 3], image(9, 3, 3, 6).data),
  ];
  for (let i = 0; i < CASES; i++) {
    const input = mutate(bases[i % bases.length], r, 24);
    const file = path.join(dir, `case-${i}-images-idx3-ubyte`);
    const gz = i % 10 === 0;
    if (gz) fs.writeFileSync(file, r() < 0.5 ? mutate(gzipDeterministic(input), r) : gzipDeterministic(input));
    runCase(
      'IDX',
      i,
      input,
      () => (gz ? readIdxFile(file) : parseIdx(input, file)),
      (v) => {
        assert.ok(
          v.data.length <= Math.max(input.length, gz ? zlib.gunzipSync(fs.readFileSync(file)).length : 0),
          `IDX case ${i}: ${v.data.length} values from ${input.length} bytes`,
        );
        assert.equal(
          v.data.length,
          v.dims.reduce((a, d) => a * d, 1),
        );
      },
      (e) => {
        assert.ok(isUserError(e), `IDX case ${i}: ${e.message}`);
        assert.ok(e.message.includes(file), `IDX case ${i}: the error names the file: ${e.message}`);
      },
    );
    if (gz) fs.rmSync(file);
  }
});

function fakeState(width: number): LearnerState {
  const arr = (shape: number[], v: number) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  return {
    step: 3,
    params: { 'encoder/conv1/w': arr([3, 3, 1, width], 0.5), 'head/b': arr([2], -1) },
    adam: { t: 3, m: { 'encoder/conv1/w': arr([3, 3, 1, width], 0.1) }, v: { 'head/b': arr([2], 0.2) } },
  };
}

const ODD_VALUES: unknown[] = [null, -1, 0, 1e308, 2 ** 53, 'x', '', [], {}, [1, 2], { a: 1 }, true, -0.5];

/** A mutation of the checkpoint's JSON header (a field replaced, removed or added), re-framed with a right length and CRC. */
function mutateHeader(bytes: Uint8Array, r: () => number): Uint8Array {
  const len = Buffer.from(bytes).readUInt32LE(12);
  const header = JSON.parse(Buffer.from(bytes.subarray(16, 16 + len)).toString('utf8')) as Record<string, unknown>;
  const data = bytes.subarray(16 + len);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...p, Array.isArray(v) ? Number(k) : k]);
  };
  walk(header, []);
  const target = paths[1 + Math.floor(r() * (paths.length - 1))];
  let parent: Record<string | number, unknown> = header;
  for (const k of target.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = target[target.length - 1];
  if (r() < 0.2) delete parent[key];
  else parent[key] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((4 - (json.length % 4)) % 4, 0x20)]);
  const out = Buffer.alloc(16 + json.length + data.length);
  Buffer.from(bytes.subarray(0, 16)).copy(out);
  out.writeUInt32LE(json.length, 12);
  json.copy(out, 16);
  Buffer.from(data).copy(out, 16 + json.length);
  return out;
}

test(`fuzz checkpoint reading: ${CASES} mutated checkpoints (bytes and header fields)`, () => {
  const r = rng(SEED + 4);
  const cfg = resolveConfig({ imageSize: 16, width: 4, ways: 2, steps: 5 });
  const base = encodeCheckpoint(fakeState(4), cfg);
  const headerEnd = 16 + Buffer.from(base).readUInt32LE(12);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-ckpt-'));
  for (let i = 0; i < CASES; i++) {
    const input = r() < 0.5 ? mutateHeader(base, r) : mutate(base, r, headerEnd);
    const file = path.join(dir, `case-${i}.ckpt`);
    runCase(
      'checkpoint',
      i,
      input,
      () => decodeCheckpoint(input, file),
      (ckpt) => {
        for (const t of Object.values(ckpt.state.params)) assert.ok(t.data.length * 4 <= input.length, `checkpoint case ${i}: a tensor larger than the file`);
        // A checkpoint that reads must also be compared with a run without a crash.
        try {
          checkCheckpointMatches(ckpt, cfg);
        } catch (e) {
          assert.ok(isUserError(e) && (e as Error).message.includes(file), `checkpoint case ${i}: ${(e as Error).stack}`);
        }
      },
      (e) => {
        assert.ok(isUserError(e), `checkpoint case ${i}: ${e.message}`);
        assert.ok(e.message.includes(file), `checkpoint case ${i}: the error names the file: ${e.message}`);
      },
    );
    // The header-only reader (listings, eval's data default) reads from disk: every tenth case.
    if (i % 10 === 0) {
      fs.writeFileSync(file, input);
      runCase(
        'checkpoint header',
        i,
        input,
        () => readCheckpointHeader(file),
        () => {},
        (e) => {
          assert.ok(isUserError(e), `checkpoint header case ${i}: ${e.message}`);
          assert.ok(e.message.includes(file), `checkpoint header case ${i}: ${e.message}`);
        },
      );
      fs.rmSync(file);
    }
  }
});

test(`fuzz the image-cache index and data: ${CASES} mutated entries are ignored (rebuilt), never thrown or trusted`, () => {
  const r = rng(SEED + 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-cache-'));
  const paths = cachePaths(dir, '/data/x', { imageSize: 4 });
  const pixels = image(10, 4, 4, 6).data;
  assert.equal(
    writeCache(
      paths,
      'fp',
      '/data/x',
      { imageSize: 4 },
      { height: 4, width: 4, channels: 1, classes: ['a', 'b', 'c'], labels: new Int32Array([0, 1, 2, 0, 1, 2]), pixels, warnings: ['w'] },
    ),
    undefined,
  );
  const goodIndex = fs.readFileSync(paths.index);
  const goodBin = fs.readFileSync(paths.bin);
  assert.ok(readCache(paths, 'fp'), 'the unmutated entry reads');
  for (let i = 0; i < CASES; i++) {
    let index: Uint8Array = goodIndex;
    let bin: Uint8Array = goodBin;
    const pick = r();
    if (pick < 0.4) index = mutate(goodIndex, r);
    else if (pick < 0.7) {
      // A field of the index replaced by an odd value, the JSON still valid.
      const obj = JSON.parse(goodIndex.toString('utf8')) as Record<string, unknown>;
      const keys = Object.keys(obj);
      obj[keys[Math.floor(r() * keys.length)]] = ODD_VALUES[Math.floor(r() * ODD_VALUES.length)];
      index = Buffer.from(JSON.stringify(obj));
    } else bin = mutate(goodBin, r);
    fs.writeFileSync(paths.index, index);
    fs.writeFileSync(paths.bin, bin);
    runCase(
      'cache',
      i,
      index,
      () => readCache(paths, 'fp'),
      (entry) => {
        if (!entry) return;
        // Only an entry that still matches its checksum is used, and then it is the one written.
        assert.deepEqual(Array.from(entry.labels), [0, 1, 2, 0, 1, 2], `cache case ${i}`);
        assert.ok(entry.pixels.length <= bin.length, `cache case ${i}: more pixels than the file holds`);
      },
      (e) => assert.fail(`cache case ${i}: readCache threw ${e.message}; a damaged entry must be ignored`),
    );
  }
});
