// The one way robust-meta replaces a file (run folders, checkpoints, the image cache): readers see
// the old content or the new, never a mix, and a full disk is an error that names the file
// instead of a file silently cut short. Here in core because the image cache (core/data) and the
// runner both write with it, and dependencies point from the runner to core.
import * as fs from 'fs';
import { UserError } from './errors';

/**
 * Bytes per write() call. One write() moves at most about 2 GiB on Linux (and may move fewer
 * bytes than asked at any size), so a file is written in chunks, each in a loop.
 */
export const WRITE_CHUNK = 1 << 30;

/** Error codes that mean "no room": the message then says so, so the user frees space. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Temp files of this writer end in `.tmp`: a writer that was killed leaves one, which sweepers remove. */
export const TEMP_SUFFIX = '.tmp';

export function tempNameFor(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}${TEMP_SUFFIX}`;
}

/** A write error as a message the user can act on: a full disk says so and names the file. */
export function writeError(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const detail = (e as Error)?.message ?? String(e);
  if (code && NO_SPACE.has(code)) {
    return new UserError(`disk full while writing ${file}: ${detail}; free some space, then resume (files written before are kept)`);
  }
  return new UserError(`cannot write ${file} (${code ?? detail})`);
}

/** Writes all of `data` at the file position, looping over short writes; 0 bytes written is a full disk. */
export function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) {
    const n = fs.writeSync(fd, data, off, Math.min(WRITE_CHUNK, data.length - off));
    if (!(n > 0)) throw Object.assign(new Error(`write() stored no byte at offset ${off} of ${data.length}`), { code: 'ENOSPC' });
    off += n;
  }
}

export interface AtomicWriteOptions {
  /** Create the file only if it does not exist (a lock): fails with EEXIST otherwise, never replaces. */
  exclusive?: boolean;
}

/**
 * Writes a file so that readers see the old content or the new, never a mix: a temp file in the
 * same folder, written in full (short writes continued), flushed to disk, then renamed over the
 * target. On any failure the temp file is removed and the target is untouched; the error is a
 * UserError naming the file ("disk full while writing ..." when there is no room).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[], opts: AtomicWriteOptions = {}): void {
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const tmp = tempNameFor(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const p of parts) writeAll(fd, p);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, e);
  }
  if (opts.exclusive) {
    // link() fails when the target exists, and the target appears complete: an atomic create.
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || !NO_HARD_LINKS.has(code ?? '')) throw e;
      // A file system without hard links (FAT, some network shares): an exclusive create, whose
      // content appears a moment after the file.
      createExclusive(file, parts);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } else {
    renameWithRetry(tmp, file);
  }
}

/** Errors of link() on a file system that has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

function createExclusive(file: string, parts: readonly Uint8Array[]): void {
  const fd = fs.openSync(file, 'wx');
  try {
    for (const p of parts) writeAll(fd, p);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw writeError(file, e);
  }
  fs.closeSync(fd);
}

/** rename(), retried briefly: on Windows it fails while another process has the target open. */
function renameWithRetry(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt >= 20 || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) {
        fs.rmSync(from, { force: true });
        throw writeError(to, e);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}
