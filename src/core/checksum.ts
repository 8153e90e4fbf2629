// CRC-32 (IEEE), as PNG chunks, gzip members, IDX caches and checkpoints use it: one function for
// every file format, native where the platform has it (zlib.crc32, Node >= 20.15), a table
// otherwise (the project supports Node >= 20.9). No codec owns it.
import * as zlib from 'zlib';

type NativeCrc = (data: Uint8Array, value?: number) => number;
const native: NativeCrc | undefined = (zlib as unknown as { crc32?: NativeCrc }).crc32;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  return table;
}

/** CRC-32 of buf[start, end), continuing from `crc` (0 for a new checksum). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  if (native) return native(start === 0 && end === buf.length ? buf : buf.subarray(start, end), crc) >>> 0;
  const t = crcTable();
  let c = ~crc;
  for (let i = start; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Whether crc32 is native (fast enough to checksum large files, as the image cache does). */
export const NATIVE_CRC32 = native !== undefined;
