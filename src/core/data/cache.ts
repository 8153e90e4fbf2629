// The decoded-image cache: one binary file (labels as int32 LE, then the 8-bit pixels) and one
// JSON index per (dataset folder, preprocessing options), in a folder the caller chooses. The
// index records a fingerprint of the file list (relative path, size, mtime of every image), the
// shape, the class names, the warnings of the load that wrote it, and a checksum of the binary.
// A changed, added or removed file changes the fingerprint and the entry is rebuilt; a damaged
// entry (bad JSON, wrong size, checksum mismatch) is ignored and rebuilt. Both files are written
// to a temporary name and renamed, so a reader never sees half a file. Nothing here throws.

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { crc32, NATIVE_CRC32 } from '../checksum';
import { writeFileAtomic } from '../atomicFile';
import { CacheIndexSchema, type CacheIndex } from '../../formats/data';
import { parseJson } from '../../formats/validate';

export const CACHE_FORMAT_VERSION = 1;

export interface CacheEntry {
  height: number;
  width: number;
  channels: number;
  classes: string[];
  /** n labels. */
  labels: Int32Array;
  /** n * height * width * channels bytes. */
  pixels: Uint8Array;
  warnings: string[];
}

export function sha1(...parts: (string | Uint8Array)[]): string {
  const h = crypto.createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Where the entry for a source folder and options lives: `<dir>/<hash>.bin` and `<dir>/<hash>.json`. */
export function cachePaths(cacheDir: string, source: string, options: unknown): { bin: string; index: string } {
  const key = sha1(JSON.stringify({ v: CACHE_FORMAT_VERSION, source, options })).slice(0, 24);
  return { bin: path.join(cacheDir, `${key}.bin`), index: path.join(cacheDir, `${key}.json`) };
}

/** A native CRC-32 is fast; without it (Node < 20.15) SHA-1 of the bytes is faster than the table. */
class Checksum {
  private crc = 0;
  private hash = NATIVE_CRC32 ? undefined : crypto.createHash('sha1');
  update(b: Uint8Array): void {
    if (this.hash) this.hash.update(b);
    else this.crc = crc32(b, 0, b.length, this.crc);
  }
  digest(): string {
    return this.hash ? `sha1:${this.hash.digest('hex')}` : `crc32:${this.crc.toString(16)}`;
  }
}

const CHUNK = 8 * 1024 * 1024;

/**
 * The entry, if it exists, is intact and matches the fingerprint; else undefined. The pixels are
 * read in chunks straight into their array, checksummed on the way.
 */
export function readCache(paths: { bin: string; index: string }, fingerprint: string): CacheEntry | undefined {
  let fd: number | undefined;
  try {
    // Any problem with the index (unreadable, not JSON, not an index) is a cache miss (the catch below).
    const idx = parseJson(CacheIndexSchema, fs.readFileSync(paths.index, 'utf8'), paths.index);
    if (idx.version !== CACHE_FORMAT_VERSION || idx.fingerprint !== fingerprint) return undefined;
    const { n, height, width, channels } = idx;
    const pixelBytes = n * height * width * channels;
    const expected = 4 * n + pixelBytes;
    if (idx.binBytes !== expected) return undefined;
    fd = fs.openSync(paths.bin, 'r');
    if (fs.fstatSync(fd).size !== expected) return undefined;
    const sum = new Checksum();
    const labelBytes = Buffer.alloc(4 * n);
    if (fs.readSync(fd, labelBytes, 0, labelBytes.length, 0) !== labelBytes.length) return undefined;
    sum.update(labelBytes);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const l = labelBytes.readInt32LE(4 * i);
      if (l < 0 || l >= idx.classes.length) return undefined;
      labels[i] = l;
    }
    const pixels = new Uint8Array(pixelBytes);
    for (let off = 0; off < pixelBytes; ) {
      const want = Math.min(CHUNK, pixelBytes - off);
      const got = fs.readSync(fd, pixels, off, want, 4 * n + off);
      if (got <= 0) return undefined;
      sum.update(pixels.subarray(off, off + got));
      off += got;
    }
    if (sum.digest() !== idx.checksum) return undefined;
    return { height, width, channels, classes: idx.classes, labels, pixels, warnings: idx.warnings };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // Nothing to do.
      }
    }
  }
}

/** Writes an entry; returns undefined on success or a warning saying why it could not be written. */
export function writeCache(
  paths: { bin: string; index: string },
  fingerprint: string,
  source: string,
  options: unknown,
  entry: CacheEntry,
): string | undefined {
  try {
    fs.mkdirSync(path.dirname(paths.bin), { recursive: true });
    const n = entry.labels.length;
    const labelBytes = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) labelBytes.writeInt32LE(entry.labels[i], 4 * i);
    const sum = new Checksum();
    sum.update(labelBytes);
    for (let off = 0; off < entry.pixels.length; off += CHUNK) sum.update(entry.pixels.subarray(off, off + CHUNK));
    const index: CacheIndex = {
      format: 'robust-meta-image-cache',
      version: CACHE_FORMAT_VERSION,
      source,
      options,
      fingerprint,
      n,
      height: entry.height,
      width: entry.width,
      channels: entry.channels,
      classes: entry.classes,
      warnings: entry.warnings,
      binBytes: labelBytes.length + entry.pixels.length,
      checksum: sum.digest(),
    };
    writeFileAtomic(paths.bin, [labelBytes, entry.pixels]);
    writeFileAtomic(paths.index, JSON.stringify(index));
    return undefined;
  } catch (e) {
    return `could not write the image cache in ${path.dirname(paths.bin)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the next load will decode the images again`;
  }
}
