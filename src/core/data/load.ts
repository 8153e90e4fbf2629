// loadDataset: an image folder or a folder of IDX files -> a Dataset with class splits.

import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../errors';
import { cachePaths, readCache, sha1, writeCache, type CacheEntry } from './cache';
import { convertChannels, decodeImage, probeImage, resizeRaw, type ImageProbe, type TargetShape } from './decode';
import { findIdxPairs, IDX_CLASS_NAMES_FILE, isIdxImagesName, labelsFileFor, readIdxPairs, type IdxPair } from './idx';
import { scanImageFolder, type FolderScan, type SplitName } from './scan';
import { DEFAULT_SPLIT_FRACTIONS, IDX10_SPLIT, readSplitFile, seededSplit, splitCountsFromFractions, type SplitCounts } from './splits';
import type { ClassSplits, Dataset, ImageSet } from './types';

export interface LoadOptions {
  /** Resize every image to imageSize x imageSize (stretching). Default: the most common size. */
  imageSize?: number;
  /** 1 (grey) or 3 (RGB). Default: what most images have (3 on a tie). */
  channels?: 1 | 3;
  /** Folder for the decoded-image cache; no caching when undefined. The caller chooses it. */
  cacheDir?: string;
  /** Seed of the seeded class split. Default 0. */
  splitSeed?: number;
  /** A JSON split file {train: [names], val: [...], test: [...]}; overrides everything else. */
  splitFile?: string;
  /** Seeded split with these class counts (overrides folder levels and splits.json). */
  splitCounts?: SplitCounts;
  /** Seeded split with these fractions of the classes (overrides folder levels and splits.json). */
  splitFractions?: SplitCounts;
  /** What to do with an image that cannot be read or decoded: skip it with a warning (default) or fail. */
  badFiles?: 'skip' | 'error';
  /** Images larger than this many pixels are refused before decoding. Default 50 megapixels. */
  maxPixels?: number;
  /** Files read and decoded at once. Default 8. */
  concurrency?: number;
  /** Name for reports. Default: the folder's base name. */
  name?: string;
  /** Called now and then with images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Cancels the load (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_PIXELS = 50_000_000;
const KEEP_BYTES_BUDGET = 256 * 1024 * 1024;
const SYNC_READ_LIMIT = 1024 * 1024;
const MAX_LISTED_WARNINGS = 50;

function checkOptions(opts: LoadOptions): void {
  if (opts.imageSize !== undefined && (!Number.isInteger(opts.imageSize) || opts.imageSize < 1 || opts.imageSize > 4096)) {
    throw new UserError(`image size must be a whole number from 1 to 4096, got ${opts.imageSize}`);
  }
  if (opts.channels !== undefined && opts.channels !== 1 && opts.channels !== 3) {
    throw new UserError(`channels must be 1 (grey) or 3 (RGB), got ${opts.channels}`);
  }
  if (opts.concurrency !== undefined && (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)) {
    throw new UserError(`concurrency must be a whole number >= 1, got ${opts.concurrency}`);
  }
  if (opts.maxPixels !== undefined && !(opts.maxPixels > 0)) throw new UserError(`maxPixels must be positive, got ${opts.maxPixels}`);
  if (opts.badFiles !== undefined && opts.badFiles !== 'skip' && opts.badFiles !== 'error') {
    throw new UserError(`badFiles must be 'skip' or 'error', got ${opts.badFiles}`);
  }
}

/**
 * Loads a dataset from an image folder (`root/<class>/<image>`, optionally under train/ val/
 * test/ levels), from a folder holding IDX files (`*-images-idx3-ubyte[.gz]` with their
 * `*-labels-idx1-ubyte[.gz]`), or from one IDX images file. Throws a UserError for anything the
 * user must fix; recoverable problems are listed in `warnings`.
 */
export async function loadDataset(p: string, opts: LoadOptions = {}): Promise<Dataset> {
  const t0 = Date.now();
  checkOptions(opts);
  const abs = path.resolve(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`dataset path ${abs} does not exist; check the path (it should be a folder of class sub-folders, or of IDX files)`);
    throw new UserError(`cannot open dataset path ${abs} (${code ?? (e as Error).message}); check the path and its permissions`);
  }
  if (st.isFile()) {
    if (!isIdxImagesName(abs)) {
      throw new UserError(`${abs} is a file; give a folder with one sub-folder of images per class, or a folder of IDX files (*-images-idx3-ubyte.gz with *-labels-idx1-ubyte.gz)`);
    }
    const labels = labelsFileFor(abs);
    if (!labels) throw new UserError(`${abs} has no labels file next to it; expected the matching *-labels-idx1-ubyte[.gz] in the same folder`);
    return loadIdxDataset([{ images: abs, labels }], path.dirname(abs), abs, opts, t0);
  }
  if (!st.isDirectory()) throw new UserError(`${abs} is neither a file nor a folder; give a dataset folder`);
  const pairs = findIdxPairs(abs);
  if (pairs.length > 0) return loadIdxDataset(pairs, abs, abs, opts, t0);
  return loadFolderDataset(abs, opts, t0);
}

// ---------------------------------------------------------------------------------------------
// Splits

function decideSplits(
  kind: 'folder' | 'idx' | 'idx10',
  root: string,
  classes: string[],
  folderSplits: (SplitName | undefined)[] | undefined,
  opts: LoadOptions,
): { splits: ClassSplits; origin: Dataset['splitOrigin']; warnings: string[] } {
  const n = classes.length;
  const seed = opts.splitSeed ?? 0;
  if (opts.splitFile !== undefined) {
    const { splits, warnings } = readSplitFile(path.resolve(opts.splitFile), classes);
    return { splits, origin: 'split-file', warnings };
  }
  if (opts.splitCounts) return { splits: seededSplit(n, opts.splitCounts, seed), origin: 'seeded', warnings: [] };
  if (opts.splitFractions) return { splits: seededSplit(n, splitCountsFromFractions(n, opts.splitFractions), seed), origin: 'seeded', warnings: [] };
  if (folderSplits) {
    const splits: ClassSplits = { train: [], val: [], test: [] };
    folderSplits.forEach((s, i) => {
      if (s) splits[s].push(i);
    });
    return { splits, origin: 'folders', warnings: [] };
  }
  const auto = path.join(root, 'splits.json');
  if (fs.existsSync(auto)) {
    const { splits, warnings } = readSplitFile(auto, classes);
    return { splits, origin: 'split-file', warnings };
  }
  if (kind === 'idx10') {
    return { splits: { train: [...IDX10_SPLIT.train], val: [...IDX10_SPLIT.val], test: [...IDX10_SPLIT.test] }, origin: 'builtin', warnings: [] };
  }
  return { splits: seededSplit(n, splitCountsFromFractions(n, DEFAULT_SPLIT_FRACTIONS), seed), origin: 'seeded', warnings: [] };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs fn(0..n-1) with at most `limit` in flight, yielding to the event loop now and then. */
async function forEachLimited(n: number, limit: number, fn: (i: number) => Promise<void>, opts: LoadOptions, progressBase = 0, progressTotal = n): Promise<void> {
  let next = 0;
  let done = 0;
  let failed = false;
  const step = Math.max(64, Math.floor(progressTotal / 100));
  const worker = async () => {
    for (;;) {
      opts.signal?.throwIfAborted();
      const i = next++;
      if (i >= n || failed) return;
      try {
        await fn(i);
      } catch (e) {
        failed = true;
        throw e;
      }
      done++;
      if (done % step === 0) {
        opts.onProgress?.(progressBase + done, progressTotal);
        await yieldToEventLoop();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(1, n)) }, worker));
  opts.onProgress?.(progressBase + done, progressTotal);
}

function errorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `cannot read the file (${code}: permission denied); check its permissions`;
  if (code) return `cannot read the file (${code})`;
  return e instanceof Error ? e.message : String(e);
}

async function readBytes(file: string, size: number): Promise<Buffer> {
  // Small files: one blocking read is several times faster than the promise API's four
  // thread-pool round trips, and the caller yields to the event loop regularly.
  if (size <= SYNC_READ_LIMIT) return fs.readFileSync(file);
  return fs.promises.readFile(file);
}

function fmtSize(h: number, w: number): string {
  return `${w}x${h}`;
}

// ---------------------------------------------------------------------------------------------
// Image folders

async function loadFolderDataset(root: string, opts: LoadOptions, t0: number): Promise<Dataset> {
  const scan = scanImageFolder(root);
  const name = opts.name ?? path.basename(root);
  const fileCount = scan.classes.reduce((a, c) => a + c.files.length, 0);
  if (scan.classes.length === 0) {
    throw new UserError(
      `no images found in ${root}: expected one sub-folder per class holding image files (${root}/<class>/<image>.png), optionally under train/, val/ and test/` +
        (scan.warnings.length ? ` (${scan.warnings.join('; ')})` : ''),
    );
  }
  if (scan.classes.length === 1) {
    throw new UserError(
      `${root} has a single class (${scan.classes[0].name}); few-shot tasks need at least 2 classes: put each class's images in its own sub-folder`,
    );
  }
  const badFiles = opts.badFiles ?? 'skip';
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const cacheOptions = { kind: 'folder', imageSize: opts.imageSize ?? null, channels: opts.channels ?? null, maxPixels, badFiles };
  const fingerprint = fingerprintScan(scan);
  let source = root;
  try {
    source = fs.realpathSync(root);
  } catch {
    // Keep the resolved path.
  }
  const paths = opts.cacheDir !== undefined ? cachePaths(path.resolve(opts.cacheDir), source, cacheOptions) : undefined;
  const warnings = [...scan.warnings];
  const cached = paths ? readCache(paths, fingerprint) : undefined;
  const cacheState: 'hit' | 'miss' | 'off' = !paths ? 'off' : cached ? 'hit' : 'miss';
  let entry: CacheEntry;
  if (cached) {
    entry = cached;
  } else {
    entry = await decodeFolder(scan, opts, maxPixels, badFiles);
    if (paths) {
      const w = writeCache(paths, fingerprint, source, cacheOptions, entry);
      if (w) warnings.push(w);
    }
  }
  warnings.push(...entry.warnings);
  const { pixels, labels, height, width, channels, classes } = entry;
  const data: ImageSet = { pixels, labels, height, width, channels, classes };
  const splitOf = new Map(scan.classes.map((c) => [c.name, c.split]));
  const folderSplits = scan.layout === 'splits' ? data.classes.map((c) => splitOf.get(c)) : undefined;
  const { splits, origin, warnings: splitWarnings } = decideSplits('folder', root, data.classes, folderSplits, opts);
  warnings.push(...splitWarnings);
  return {
    name,
    source: root,
    data,
    splits,
    splitOrigin: origin,
    warnings,
    loadInfo: { kind: 'folder', cache: cacheState, files: fileCount, ms: Date.now() - t0 },
  };
}

function fingerprintScan(scan: FolderScan): string {
  const lines: string[] = [];
  for (const c of scan.classes) {
    lines.push(`class\t${c.name}`);
    for (const f of c.files) lines.push(`${f.rel}\t${f.size}\t${f.mtimeMs}`);
  }
  return sha1(lines.join('\n'));
}

/** One image file of a scan with its class label, in file order. */
interface DecodeJob {
  file: FolderScan['classes'][number]['files'][number];
  label: number;
}

/** The files that could not be read or decoded, by index, with why. */
class BadFiles {
  readonly reasons = new Map<number, string>();

  constructor(
    private readonly jobs: DecodeJob[],
    private readonly mode: 'skip' | 'error',
  ) {}

  add(i: number, reason: string): void {
    this.reasons.set(i, reason);
  }

  has(i: number): boolean {
    return this.reasons.has(i);
  }

  get size(): number {
    return this.reasons.size;
  }

  /**
   * With badFiles 'error', fails after a pass, naming the first bad file in file order (the order
   * in which concurrent reads fail is not deterministic).
   */
  stopIfFatal(): void {
    if (this.mode !== 'error' || this.size === 0) return;
    const first = [...this.reasons.keys()].reduce((a, b) => Math.min(a, b));
    const more = this.size > 1 ? ` (and ${this.size - 1} more bad file${this.size > 2 ? 's' : ''})` : '';
    throw new UserError(`cannot load image ${this.jobs[first].file.abs}: ${this.reasons.get(first)}; fix or remove the file, or load with bad files skipped${more}`);
  }

  /** Warnings listing the skipped files (the first MAX_LISTED_WARNINGS). */
  warnings(): string[] {
    const list = [...this.reasons.keys()].sort((a, b) => a - b);
    const out = list.slice(0, MAX_LISTED_WARNINGS).map((i) => `skipped ${this.jobs[i].file.rel}: ${this.reasons.get(i)}`);
    if (list.length > MAX_LISTED_WARNINGS) out.push(`... and ${list.length - MAX_LISTED_WARNINGS} more unreadable images skipped`);
    return out;
  }
}

/** Reads a file, noting it as bad when it cannot be read. */
async function readOrMark(jobs: DecodeJob[], i: number, bad: BadFiles): Promise<Buffer | undefined> {
  const f = jobs[i].file;
  try {
    return await readBytes(f.abs, f.size);
  } catch (e) {
    bad.add(i, errorReason(e));
    return undefined;
  }
}

/**
 * Pass 1, when the target shape is not given: each file's size and channels from its header. The
 * bytes read are kept (up to KEEP_BYTES_BUDGET) so that pass 2 need not read them again.
 */
async function probeShapes(jobs: DecodeJob[], opts: LoadOptions, maxPixels: number, bad: BadFiles): Promise<{ shapes: (ImageProbe | undefined)[]; kept: (Buffer | undefined)[] }> {
  const n = jobs.length;
  const shapes: (ImageProbe | undefined)[] = new Array(n);
  const kept: (Buffer | undefined)[] = new Array(n);
  let keptBytes = 0;
  await forEachLimited(
    n,
    opts.concurrency ?? 8,
    async (i) => {
      const buf = await readOrMark(jobs, i, bad);
      if (!buf) return;
      try {
        shapes[i] = await probeImage(buf, { maxPixels });
      } catch (e) {
        return bad.add(i, errorReason(e));
      }
      if (keptBytes + buf.length <= KEEP_BYTES_BUDGET) {
        kept[i] = buf;
        keptBytes += buf.length;
      }
    },
    opts,
    0,
    2 * n,
  );
  return { shapes, kept };
}

/** The target shape from the probed shapes: the most common size and the majority's channels, with notes on what was converted. */
function chooseTarget(shapes: (ImageProbe | undefined)[], opts: LoadOptions): { target: TargetShape; notes: string[] } {
  const notes: string[] = [];
  const sizeCount = new Map<string, { h: number; w: number; count: number }>();
  let grey = 0;
  let colour = 0;
  for (const s of shapes) {
    if (!s) continue;
    const k = `${s.height}x${s.width}`;
    const e = sizeCount.get(k) ?? { h: s.height, w: s.width, count: 0 };
    e.count++;
    sizeCount.set(k, e);
    if (s.channels === 1) grey++;
    else colour++;
  }
  const sizes = [...sizeCount.values()].sort((a, b) => b.count - a.count || b.h * b.w - a.h * a.w || b.h - a.h);
  const chosen = opts.imageSize !== undefined ? { h: opts.imageSize, w: opts.imageSize } : sizes[0] ?? { h: 1, w: 1 };
  const channels = opts.channels ?? (grey > colour ? 1 : 3);
  if (opts.imageSize === undefined && sizes.length > 1) {
    const others = sizes.slice(1).reduce((a, s) => a + s.count, 0);
    const list = sizes.slice(0, 5).map((s) => `${fmtSize(s.h, s.w)} (${s.count})`).join(', ');
    notes.push(
      `images come in ${sizes.length} sizes (${list}${sizes.length > 5 ? ', ...' : ''}); ${others} were resized to ${fmtSize(chosen.h, chosen.w)}, the most common size: pass an image size to choose another`,
    );
  }
  if (opts.channels === undefined && grey > 0 && colour > 0) {
    notes.push(
      channels === 1
        ? `${colour} colour image(s) were converted to grey, as most images (${grey}) are grey: pass channels 3 to keep colour`
        : `${grey} grey image(s) were converted to RGB, as most images (${colour}) are colour (or it is a tie): pass channels 1 for grey`,
    );
  }
  return { target: { height: chosen.h, width: chosen.w, channels }, notes };
}

/** Pass 2: every good file decoded to the target shape, into one array (bad files leave their slot empty). */
async function decodeAll(jobs: DecodeJob[], target: TargetShape, kept: (Buffer | undefined)[] | undefined, opts: LoadOptions, maxPixels: number, bad: BadFiles): Promise<Uint8Array> {
  const n = jobs.length;
  const size = target.height * target.width * target.channels;
  const pixels = new Uint8Array(n * size);
  const base = kept ? n : 0;
  await forEachLimited(
    n,
    opts.concurrency ?? 8,
    async (i) => {
      if (bad.has(i)) return;
      let buf = kept?.[i];
      if (kept) kept[i] = undefined;
      buf ??= await readOrMark(jobs, i, bad);
      if (!buf) return;
      try {
        const img = await decodeImage(buf, target, { maxPixels });
        if (img.data.length !== size) throw new Error(`decoded to ${img.width}x${img.height}x${img.channels}, expected ${target.width}x${target.height}x${target.channels}`);
        pixels.set(img.data, i * size);
      } catch (e) {
        return bad.add(i, errorReason(e));
      }
    },
    opts,
    base,
    base + n,
  );
  return pixels;
}

/** Fails when bad files left a class with no image at all. */
function checkNoClassEmptied(scan: FolderScan, jobs: DecodeJob[], bad: BadFiles): void {
  const goodPerClass = new Int32Array(scan.classes.length);
  for (let i = 0; i < jobs.length; i++) if (!bad.has(i)) goodPerClass[jobs[i].label]++;
  const emptied = scan.classes.filter((_, c) => goodPerClass[c] === 0);
  if (!emptied.length) return;
  const c = emptied[0];
  const first = jobs.findIndex((j) => j.file === c.files[0]);
  throw new UserError(
    `class ${c.name} in ${scan.root} has no readable images: all ${c.files.length} of its files failed to load ` +
      `(first: ${c.files[0].rel}: ${bad.reasons.get(first)}); fix or replace them, or remove the class folder` +
      (emptied.length > 1 ? ` (also: ${emptied.slice(1, 6).map((e) => e.name).join(', ')})` : ''),
  );
}

/** The good images' pixels and labels, packed (the same array when no file was bad). */
function compactGood(jobs: DecodeJob[], pixels: Uint8Array, size: number, bad: BadFiles): { pixels: Uint8Array; labels: Int32Array } {
  const n = jobs.length;
  const good = n - bad.size;
  const out = bad.size ? new Uint8Array(good * size) : pixels;
  const labels = new Int32Array(good);
  for (let i = 0, o = 0; i < n; i++) {
    if (bad.has(i)) continue;
    if (bad.size) out.set(pixels.subarray(i * size, (i + 1) * size), o * size);
    labels[o++] = jobs[i].label;
  }
  return { pixels: out, labels };
}

/** Decodes every image of a scan into one 8-bit array; bad files are skipped (with warnings) or fatal. */
async function decodeFolder(scan: FolderScan, opts: LoadOptions, maxPixels: number, badFiles: 'skip' | 'error'): Promise<CacheEntry> {
  const jobs: DecodeJob[] = scan.classes.flatMap((c, label) => c.files.map((file) => ({ file, label })));
  const bad = new BadFiles(jobs, badFiles);
  let target: TargetShape;
  let notes: string[] = [];
  let kept: (Buffer | undefined)[] | undefined;
  if (opts.imageSize === undefined || opts.channels === undefined) {
    const probed = await probeShapes(jobs, opts, maxPixels, bad);
    bad.stopIfFatal();
    kept = probed.kept;
    ({ target, notes } = chooseTarget(probed.shapes, opts));
  } else {
    target = { height: opts.imageSize, width: opts.imageSize, channels: opts.channels };
  }
  const decoded = await decodeAll(jobs, target, kept, opts, maxPixels, bad);
  bad.stopIfFatal();
  checkNoClassEmptied(scan, jobs, bad);
  const { pixels, labels } = compactGood(jobs, decoded, target.height * target.width * target.channels, bad);
  return { ...target, classes: scan.classes.map((c) => c.name), labels, pixels, warnings: [...bad.warnings(), ...notes] };
}

// ---------------------------------------------------------------------------------------------
// IDX

/**
 * Class names of IDX labels: from classes.txt in the IDX folder when it names every label, else
 * the label numbers (with a warning saying why the file was not used).
 */
function idxClassNames(root: string, values: number[], warnings: string[]): string[] {
  const numbers = values.map(String);
  const file = path.join(root, IDX_CLASS_NAMES_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return numbers;
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const names = values.map((v) => lines[v] ?? '');
  const missing = values.filter((_, i) => names[i] === '');
  if (missing.length) {
    warnings.push(`${file} names ${lines.length} labels, but the labels go up to ${values[values.length - 1]} (no name for ${missing.slice(0, 5).join(', ')}); using label numbers as class names`);
    return numbers;
  }
  if (new Set(names).size !== names.length) {
    warnings.push(`${file} gives two labels the same name; using label numbers as class names`);
    return numbers;
  }
  return names;
}

async function loadIdxDataset(pairs: IdxPair[], root: string, source: string, opts: LoadOptions, t0: number): Promise<Dataset> {
  const idx = readIdxPairs(pairs);
  const values = [...new Set(idx.labels)].sort((a, b) => a - b);
  const warnings: string[] = [];
  const classes = idxClassNames(root, values, warnings);
  const classOf = new Int32Array(256).fill(-1);
  values.forEach((v, i) => (classOf[v] = i));
  const labels = new Int32Array(idx.n);
  for (let i = 0; i < idx.n; i++) labels[i] = classOf[idx.labels[i]];
  const name = opts.name ?? path.basename(root);
  if (classes.length < 2) {
    throw new UserError(`${pairs[0].labels} has a single class (label ${classes[0]}); few-shot tasks need at least 2 classes`);
  }
  const target: TargetShape = { height: opts.imageSize ?? idx.height, width: opts.imageSize ?? idx.width, channels: opts.channels ?? idx.channels };
  let pixels = idx.pixels;
  let cacheState: 'hit' | 'miss' | 'off' = 'off';
  const resize = target.height !== idx.height || target.width !== idx.width;
  if (resize || target.channels !== idx.channels) {
    const inSize = idx.height * idx.width * idx.channels;
    const outSize = target.height * target.width * target.channels;
    const convert = async (): Promise<Uint8Array> => {
      const out = new Uint8Array(idx.n * outSize);
      await forEachLimited(
        idx.n,
        opts.concurrency ?? 8,
        async (i) => {
          let img = { width: idx.width, height: idx.height, channels: idx.channels, data: idx.pixels.subarray(i * inSize, (i + 1) * inSize) };
          if (resize) img = resizeRaw(img, target.height, target.width);
          img = convertChannels(img, target.channels);
          out.set(img.data, i * outSize);
        },
        opts,
      );
      return out;
    };
    if (resize && opts.cacheDir !== undefined) {
      // Resizing many images takes a while: cache it, keyed by the IDX files' sizes and mtimes.
      const stats = pairs.flatMap((p) => [p.images, p.labels]).map((f) => {
        const s = fs.statSync(f);
        return `${f}\t${s.size}\t${s.mtimeMs}`;
      });
      const cacheOptions = { kind: 'idx', ...target };
      const paths = cachePaths(path.resolve(opts.cacheDir), source, cacheOptions);
      const fingerprint = sha1(stats.join('\n'));
      const hit = readCache(paths, fingerprint);
      if (hit && hit.pixels.length === idx.n * outSize) {
        pixels = hit.pixels;
        cacheState = 'hit';
      } else {
        pixels = await convert();
        cacheState = 'miss';
        const w = writeCache(paths, fingerprint, source, cacheOptions, { ...target, classes, labels, pixels, warnings: [] });
        if (w) warnings.push(w);
      }
    } else {
      pixels = await convert();
    }
  }
  const data: ImageSet = { pixels, labels, ...target, classes };
  // Ten classes labelled 0..9 are the MNIST family: they get the documented built-in split.
  const mnistLike = values.length === 10 && values.every((v, i) => v === i);
  const { splits, origin, warnings: splitWarnings } = decideSplits(mnistLike ? 'idx10' : 'idx', root, classes, undefined, opts);
  warnings.push(...splitWarnings);
  return {
    name,
    source,
    data,
    splits,
    splitOrigin: origin,
    warnings,
    loadInfo: { kind: 'idx', cache: cacheState, files: idx.n, ms: Date.now() - t0 },
  };
}
