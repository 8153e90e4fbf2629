// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed: a big-endian header
// (two zero bytes, a type byte, a dimension count, then one uint32 per dimension) and the values.
// Only unsigned-byte data is supported, which is what image and label files use.

import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { UserError } from '../errors';
import { crc32 } from '../checksum';

/** The file next to IDX files that names their labels: line i names label i (optional). */
export const IDX_CLASS_NAMES_FILE = 'classes.txt';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = { 0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' };

/** Parses IDX bytes (already decompressed). `file` names the source in error messages. */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) {
    throw new UserError(`${file} is not an IDX file (it does not start with the IDX magic number 00 00 <type> <dims>); give the MNIST-style *-images-idx3-ubyte and *-labels-idx1-ubyte files`);
  }
  const type = b[2];
  const nd = b[3];
  if (type !== 0x08) {
    throw new UserError(`${file} holds ${TYPE_NAMES[type] ?? `type 0x${type.toString(16)}`} values; only unsigned-byte IDX files (type 0x08) are supported`);
  }
  if (nd < 1 || b.length < 4 + 4 * nd) throw new UserError(`${file} is truncated: its IDX header is incomplete; re-download or re-create it`);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(b.readUInt32BE(4 + 4 * i));
  const count = dims.reduce((a, d) => a * d, 1);
  const start = 4 + 4 * nd;
  if (b.length < start + count) {
    throw new UserError(`${file} is truncated: its header says ${dims.join('x')} values (${start + count} bytes) but it has ${b.length} bytes; re-download or re-create it`);
  }
  return { dims, data: new Uint8Array(b.buffer, b.byteOffset + start, count) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic (whatever its name). */
export function readIdxFile(file: string): IdxArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; check that it exists and is readable`);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new UserError(`${file} is a damaged or truncated gzip file (${(e as Error).message}); re-download it`);
    }
  }
  return parseIdx(buf, file);
}

/** Serialises unsigned bytes as IDX. */
export function encodeIdx(dims: number[], data: Uint8Array): Buffer {
  const count = dims.reduce((a, d) => a * d, 1);
  if (count !== data.length) throw new Error(`encodeIdx: ${dims.join('x')} needs ${count} values, got ${data.length}`);
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

/** gzip with a fixed header (no name, mtime 0, OS 'unknown'), so the bytes depend only on the input and zlib. */
export function gzipDeterministic(data: Uint8Array): Buffer {
  const body = zlib.deflateRawSync(data, { level: 9, memLevel: 9 });
  const head = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff]);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(crc32(data), 0);
  tail.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([head, body, tail]);
}

/** One images file and its labels file. */
export interface IdxPair {
  images: string;
  labels: string;
}

const IMAGES_RE = /^(.*?)([-_.]?)images([-_.])idx([34])([-_.])ubyte(\.gz)?$/i;

/**
 * The IDX image/label pairs in a folder: every `<prefix>-images-idx3-ubyte[.gz]` (also with '.'
 * or '_' separators, and idx4 for multi-channel images) with its `<prefix>-labels-idx1-ubyte[.gz]`.
 * Sorted by file name. Throws a UserError for an images file without its labels file.
 */
export function findIdxPairs(dir: string): IdxPair[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const lower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const pairs: IdxPair[] = [];
  for (const name of [...names].sort()) {
    const m = IMAGES_RE.exec(name);
    if (!m) continue;
    const [, prefix, sep1, sep2, , sep3] = m;
    const candidates = [`${prefix}${sep1}labels${sep2}idx1${sep3}ubyte`];
    const label = [candidates[0] + '.gz', candidates[0]].map((c) => lower.get(c.toLowerCase())).find((c) => c !== undefined);
    if (!label) {
      throw new UserError(`${path.join(dir, name)} has no labels file next to it: expected ${candidates[0]} or ${candidates[0]}.gz in ${dir}`);
    }
    pairs.push({ images: path.join(dir, name), labels: path.join(dir, label) });
  }
  return pairs;
}

/** Whether a path names an IDX images file (by its name). */
export function isIdxImagesName(file: string): boolean {
  return IMAGES_RE.test(path.basename(file));
}

/** The labels file that belongs to an images file, or undefined. */
export function labelsFileFor(imagesFile: string): string | undefined {
  const dir = path.dirname(imagesFile);
  const m = IMAGES_RE.exec(path.basename(imagesFile));
  if (!m) return undefined;
  const base = `${m[1]}${m[2]}labels${m[3]}idx1${m[5]}ubyte`;
  for (const c of [base + '.gz', base]) if (fs.existsSync(path.join(dir, c))) return path.join(dir, c);
  return undefined;
}

/** Images (n x h x w x c bytes) and labels (n bytes) from IDX pairs, concatenated in the given order. */
export interface IdxImages {
  n: number;
  height: number;
  width: number;
  channels: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

export function readIdxPairs(pairs: IdxPair[]): IdxImages {
  const parts: { img: IdxArray; lab: IdxArray; pair: IdxPair }[] = [];
  for (const pair of pairs) {
    const img = readIdxFile(pair.images);
    const lab = readIdxFile(pair.labels);
    if (img.dims.length !== 3 && img.dims.length !== 4) {
      throw new UserError(`${pair.images} has ${img.dims.length} dimensions (${img.dims.join('x')}); an images file has 3 (count, rows, cols) or 4 (count, rows, cols, channels)`);
    }
    if (lab.dims.length !== 1) throw new UserError(`${pair.labels} has ${lab.dims.length} dimensions; a labels file has 1 (count)`);
    if (lab.dims[0] !== img.dims[0]) {
      throw new UserError(`${pair.images} has ${img.dims[0]} images but ${pair.labels} has ${lab.dims[0]} labels; they must match (are they from the same download?)`);
    }
    parts.push({ img, lab, pair });
  }
  const shape = (a: IdxArray) => [a.dims[1], a.dims[2], a.dims[3] ?? 1];
  const [height, width, channels] = shape(parts[0].img);
  for (const p of parts) {
    const s = shape(p.img);
    if (s[0] !== height || s[1] !== width || s[2] !== channels) {
      throw new UserError(`${p.pair.images} has ${s.join('x')} images but ${parts[0].pair.images} has ${height}x${width}x${channels}; the IDX files in one folder must have the same image size`);
    }
  }
  if (channels !== 1 && channels !== 3) throw new UserError(`${parts[0].pair.images} has ${channels} channels per pixel; 1 or 3 are supported`);
  const n = parts.reduce((a, p) => a + p.img.dims[0], 0);
  const pixels = new Uint8Array(n * height * width * channels);
  const labels = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    pixels.set(p.img.data, o * height * width * channels);
    labels.set(p.lab.data, o);
    o += p.img.dims[0];
  }
  return { n, height, width, channels, pixels, labels };
}
