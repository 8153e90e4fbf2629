// A decoder for uncompressed Windows bitmaps, which sharp (libvips) cannot read: 1/4/8-bit
// palette, 16-bit (5-5-5 or bit fields), 24-bit and 32-bit (BGRX or bit fields), bottom-up or
// top-down rows, every header version from BITMAPCOREHEADER to BITMAPV5HEADER. RLE-compressed
// and embedded JPEG/PNG bitmaps are refused with a reason. Alpha is dropped.

import { pixelLimitMessage } from './limits';
import type { RawImage } from './png';

export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d;
}

export interface BmpHeader {
  width: number;
  height: number;
  bitCount: number;
  compression: number;
  /** Rows stored top row first (negative height in the header). */
  topDown: boolean;
  headerSize: number;
}

export function readBmpHeader(buf: Uint8Array): BmpHeader | undefined {
  if (!isBmp(buf) || buf.length < 26) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerSize = b.readUInt32LE(14);
  if (headerSize === 12) {
    return { width: b.readUInt16LE(18), height: b.readUInt16LE(20), bitCount: b.readUInt16LE(24), compression: 0, topDown: false, headerSize };
  }
  if (headerSize < 40 || b.length < 54) return undefined;
  const h = b.readInt32LE(22);
  return {
    width: b.readInt32LE(18),
    height: Math.abs(h),
    bitCount: b.readUInt16LE(28),
    compression: b.readUInt32LE(30),
    topDown: h < 0,
    headerSize,
  };
}

const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'embedded JPEG', 5: 'embedded PNG' };

/** Decodes a BMP; throws an Error with a short reason on damage or an unsupported variant. */
export function decodeBmp(buf: Uint8Array, maxPixels = Infinity): RawImage {
  const h = readBmpHeader(buf);
  if (!h) throw new Error('not a BMP file or its header is truncated');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const { width, height, bitCount, compression, topDown, headerSize } = h;
  if (width <= 0 || height <= 0) throw new Error(`BMP has an invalid size ${width}x${height}`);
  if (width * height > maxPixels) {
    throw new Error(pixelLimitMessage(width, height, maxPixels));
  }
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new Error(`unsupported BMP compression ${COMPRESSION_NAMES[compression] ?? compression}; save it as an uncompressed BMP or a PNG`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) throw new Error(`unsupported BMP bit depth ${bitCount}`);
  const dataOffset = b.readUInt32LE(10);
  const stride = Math.floor((bitCount * width + 31) / 32) * 4;
  if (dataOffset + stride * height > b.length) {
    throw new Error(`truncated BMP (pixel data needs ${dataOffset + stride * height} bytes, the file has ${b.length})`);
  }
  const n = width * height;
  const rowAt = (y: number) => dataOffset + (topDown ? y : height - 1 - y) * stride;

  if (bitCount <= 8) {
    const palStart = 14 + headerSize;
    const entrySize = headerSize === 12 ? 3 : 4;
    const clrUsed = headerSize >= 40 ? b.readUInt32LE(46) : 0;
    const entries = clrUsed || 1 << bitCount;
    if (palStart + entries * entrySize > dataOffset) throw new Error('damaged BMP (palette overlaps the pixel data)');
    const pal = new Uint8Array(entries * 3);
    let grey = true;
    for (let i = 0; i < entries; i++) {
      const o = palStart + i * entrySize;
      pal[3 * i] = b[o + 2];
      pal[3 * i + 1] = b[o + 1];
      pal[3 * i + 2] = b[o];
      if (b[o] !== b[o + 1] || b[o] !== b[o + 2]) grey = false;
    }
    const channels = grey ? 1 : 3;
    const out = new Uint8Array(n * channels);
    const perByte = 8 / bitCount;
    const mask = (1 << bitCount) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowAt(y);
      for (let x = 0; x < width; x++) {
        const byte = b[row + Math.floor(x / perByte)];
        const shift = 8 - bitCount * ((x % perByte) + 1);
        const e = (byte >> shift) & mask;
        if (e >= entries) throw new Error(`damaged BMP (pixel uses palette entry ${e} of ${entries})`);
        const i = y * width + x;
        if (grey) out[i] = pal[3 * e];
        else {
          out[3 * i] = pal[3 * e];
          out[3 * i + 1] = pal[3 * e + 1];
          out[3 * i + 2] = pal[3 * e + 2];
        }
      }
    }
    return { width, height, channels, data: out };
  }

  const out = new Uint8Array(n * 3);
  if (bitCount === 24) {
    for (let y = 0; y < height; y++) {
      const row = rowAt(y);
      for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
        out[o] = b[row + 3 * x + 2];
        out[o + 1] = b[row + 3 * x + 1];
        out[o + 2] = b[row + 3 * x];
      }
    }
    return { width, height, channels: 3, data: out };
  }

  // 16 or 32 bits: channel masks, given (bit fields) or the defaults.
  let masks: number[];
  if (compression === 3 || compression === 6) {
    const at = headerSize >= 52 ? 54 : 14 + headerSize;
    if (at + 12 > b.length) throw new Error('truncated BMP (bit-field masks missing)');
    masks = [b.readUInt32LE(at), b.readUInt32LE(at + 4), b.readUInt32LE(at + 8)];
  } else {
    masks = bitCount === 16 ? [0x7c00, 0x03e0, 0x001f] : [0x00ff0000, 0x0000ff00, 0x000000ff];
  }
  const shifts = masks.map((m) => (m === 0 ? 0 : ctz(m)));
  const maxes = masks.map((m, i) => (m === 0 ? 1 : (m >>> shifts[i])));
  for (let y = 0; y < height; y++) {
    const row = rowAt(y);
    for (let x = 0, o = y * width * 3; x < width; x++, o += 3) {
      const v = bitCount === 16 ? b.readUInt16LE(row + 2 * x) : b.readUInt32LE(row + 4 * x);
      for (let c = 0; c < 3; c++) {
        out[o + c] = masks[c] === 0 ? 0 : Math.round((((v & masks[c]) >>> 0) >>> shifts[c]) * 255 / maxes[c]);
      }
    }
  }
  return { width, height, channels: 3, data: out };
}

function ctz(m: number): number {
  let s = 0;
  while (((m >>> s) & 1) === 0 && s < 32) s++;
  return s;
}

/** Encodes 8-bit grey (8-bit palette) or RGB (24-bit) pixels as a bottom-up BMP; for tests and tools. */
export function encodeBmp(img: RawImage): Buffer {
  const { width, height, channels, data } = img;
  const bitCount = channels === 1 ? 8 : 24;
  const stride = Math.floor((bitCount * width + 31) / 32) * 4;
  const palSize = channels === 1 ? 256 * 4 : 0;
  const offset = 14 + 40 + palSize;
  const out = Buffer.alloc(offset + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(offset, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bitCount, 28);
  out.writeUInt32LE(stride * height, 34);
  if (channels === 1) {
    out.writeUInt32LE(256, 46);
    for (let i = 0; i < 256; i++) out.writeUInt32LE(i * 0x010101, 54 + 4 * i);
  }
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      if (channels === 1) out[row + x] = data[y * width + x];
      else {
        const i = 3 * (y * width + x);
        out[row + 3 * x] = data[i + 2];
        out[row + 3 * x + 1] = data[i + 1];
        out[row + 3 * x + 2] = data[i];
      }
    }
  }
  return out;
}
