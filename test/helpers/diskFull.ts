// Preloaded with `node --require` into a CLI or worker process to make its disk "fill up": every
// fs.writeSync moves at most 4 KiB (short writes, which the atomic writer must continue), and from
// the first write to a file whose path matches RM_DISK_FULL_MATCH (a regular expression) on, every
// write to a file stores half of what it is given and then fails with ENOSPC, as a full disk does.
// The module object itself (not an import wrapper), so that the patches reach every caller.
import fs = require('fs');

const match = new RegExp(process.env.RM_DISK_FULL_MATCH ?? '$^');
const paths = new Map<number, string>();
let full = false;

const realOpen = fs.openSync;
const realWrite = fs.writeSync;

(fs as { openSync: typeof fs.openSync }).openSync = function (this: unknown, ...args: Parameters<typeof fs.openSync>) {
  const fd = realOpen.apply(fs, args);
  paths.set(fd, String(args[0]));
  return fd;
} as typeof fs.openSync;

function noSpace(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

(fs as { writeSync: unknown }).writeSync = function (fd: number, buf: unknown, offset?: number, length?: number, position?: number) {
  const file = paths.get(fd);
  if (file === undefined || typeof buf === 'string' || !(buf instanceof Uint8Array))
    return (realWrite as (...a: unknown[]) => number)(fd, buf, offset, length, position);
  const off = offset ?? 0;
  const len = length ?? buf.length - off;
  if (match.test(file)) full = true;
  if (full) {
    if (len > 1) realWrite(fd, buf, off, Math.floor(len / 2));
    throw noSpace();
  }
  return realWrite(fd, buf, off, Math.min(len, 4096), position);
};
