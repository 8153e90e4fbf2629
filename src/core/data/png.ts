// A small PNG codec for the common case: 8-bit, non-interlaced grey, grey+alpha, RGB, RGBA and
// palette images. Decoding tiny images in JavaScript is ~30x faster than a round trip through
// sharp (whose per-call overhead dominates at 28x28), so the folder loader uses this first and
// falls back to sharp for everything else (16-bit, sub-byte depths, interlaced). The encoder is
// deterministic (fixed filter choice and zlib level), which the bundled-data script relies on.

import * as zlib from 'zlib';
import { crc32 } from '../checksum';
import { pixelLimitMessage } from './limits';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Pixels as 8-bit samples, row-major, interleaved channels. */
export interface RawImage {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB): decoders in this folder drop alpha. */
  channels: number;
  data: Uint8Array;
}

/** What a PNG's header says, read without decoding. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

export function isPng(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return false;
  return true;
}

/** The IHDR fields, or undefined when the bytes do not start like a PNG. */
export function readPngHeader(buf: Uint8Array): PngHeader | undefined {
  if (!isPng(buf) || buf.length < 33) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return {
    width: b.readUInt32BE(16),
    height: b.readUInt32BE(20),
    bitDepth: b[24],
    colorType: b[25],
    interlace: b[28],
  };
}

/** Whether decodePng handles this header (else use a general decoder). */
export function pngFastPathSupports(h: PngHeader): boolean {
  return h.bitDepth === 8 && h.interlace === 0 && [0, 2, 3, 4, 6].includes(h.colorType);
}

/** Colour channels (1 or 3) that a PNG with this header holds, alpha not counted. */
export function pngColourChannels(h: PngHeader): number {
  return h.colorType === 0 || h.colorType === 4 ? 1 : 3;
}

/**
 * Decodes a PNG that pngFastPathSupports accepts. Throws an Error with a short reason on any
 * damage (truncation, bad CRC, bad zlib stream, wrong data length). Alpha is dropped; a palette
 * whose entries are all grey gives a 1-channel image.
 */
export function decodePng(buf: Uint8Array, maxPixels = Infinity): RawImage {
  const h = readPngHeader(buf);
  if (!h) throw new Error('not a PNG file (bad signature or header)');
  if (!pngFastPathSupports(h)) throw new Error('unsupported PNG variant for the fast decoder');
  const { width, height, colorType } = h;
  if (width === 0 || height === 0) throw new Error('PNG has zero width or height');
  if (width * height > maxPixels) {
    throw new Error(pixelLimitMessage(width, height, maxPixels));
  }
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const idat: Buffer[] = [];
  let palette: Buffer | undefined;
  let pos = 8;
  let sawEnd = false;
  while (pos + 12 <= b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    const dataEnd = pos + 8 + len;
    if (dataEnd + 4 > b.length) throw new Error(`truncated PNG (chunk ${type} runs past the end of the file)`);
    const crc = b.readUInt32BE(dataEnd);
    if (crc32(b, pos + 4, dataEnd) !== crc) throw new Error(`damaged PNG (CRC mismatch in chunk ${type})`);
    if (type === 'IDAT') idat.push(b.subarray(pos + 8, dataEnd));
    else if (type === 'PLTE') palette = b.subarray(pos + 8, dataEnd);
    else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = dataEnd + 4;
  }
  if (!sawEnd) throw new Error('truncated PNG (no IEND chunk)');
  if (idat.length === 0) throw new Error('damaged PNG (no image data)');
  const bpp = colorType === 0 ? 1 : colorType === 2 ? 3 : colorType === 3 ? 1 : colorType === 4 ? 2 : 4;
  const stride = width * bpp;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (e) {
    throw new Error(`damaged PNG (image data does not decompress: ${(e as Error).message})`);
  }
  if (raw.length !== expected) throw new Error(`damaged PNG (image data has ${raw.length} bytes, expected ${expected})`);
  const px = new Uint8Array(height * stride);
  unfilter(raw, px, height, stride, bpp);

  if (colorType === 3) {
    if (!palette || palette.length % 3 !== 0) throw new Error('damaged PNG (palette image without a valid PLTE chunk)');
    const entries = palette.length / 3;
    let grey = true;
    for (let i = 0; i < entries; i++) {
      if (palette[3 * i] !== palette[3 * i + 1] || palette[3 * i] !== palette[3 * i + 2]) {
        grey = false;
        break;
      }
    }
    const n = width * height;
    const out = new Uint8Array(n * (grey ? 1 : 3));
    for (let i = 0; i < n; i++) {
      const e = px[i];
      if (e >= entries) throw new Error(`damaged PNG (pixel uses palette entry ${e} of ${entries})`);
      if (grey) out[i] = palette[3 * e];
      else {
        out[3 * i] = palette[3 * e];
        out[3 * i + 1] = palette[3 * e + 1];
        out[3 * i + 2] = palette[3 * e + 2];
      }
    }
    return { width, height, channels: grey ? 1 : 3, data: out };
  }
  if (colorType === 0 || colorType === 2) return { width, height, channels: bpp, data: px };
  // Drop alpha.
  const channels = colorType === 4 ? 1 : 3;
  const n = width * height;
  const out = new Uint8Array(n * channels);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += bpp) {
    for (let c = 0; c < channels; c++) out[k++] = px[j + c];
  }
  return { width, height, channels, data: out };
}

function unfilter(raw: Uint8Array, px: Uint8Array, height: number, stride: number, bpp: number): void {
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    switch (f) {
      case 0:
        for (let x = 0; x < stride; x++) px[dst + x] = raw[src + x];
        break;
      case 1:
        for (let x = 0; x < stride; x++) px[dst + x] = (raw[src + x] + (x >= bpp ? px[dst + x - bpp] : 0)) & 0xff;
        break;
      case 2:
        for (let x = 0; x < stride; x++) px[dst + x] = (raw[src + x] + (y > 0 ? px[up + x] : 0)) & 0xff;
        break;
      case 3:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? px[dst + x - bpp] : 0;
          const b = y > 0 ? px[up + x] : 0;
          px[dst + x] = (raw[src + x] + ((a + b) >>> 1)) & 0xff;
        }
        break;
      case 4:
        for (let x = 0; x < stride; x++) {
          const a = x >= bpp ? px[dst + x - bpp] : 0;
          const b = y > 0 ? px[up + x] : 0;
          const c = x >= bpp && y > 0 ? px[up + x - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          px[dst + x] = (raw[src + x] + pred) & 0xff;
        }
        break;
      default:
        throw new Error(`damaged PNG (unknown row filter ${f} in row ${y})`);
    }
  }
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out, 4, 8 + data.length), 8 + data.length);
  return out;
}

/**
 * Encodes 8-bit grey (1 channel) or RGB (3 channels) pixels as a PNG. Deterministic for a given
 * zlib: each row's filter is chosen by the usual minimum-sum-of-absolute-differences heuristic,
 * which depends only on the pixels, and the zlib settings are fixed.
 */
export function encodePng(img: RawImage): Buffer {
  const { width, height, channels, data } = img;
  if (channels !== 1 && channels !== 3) throw new Error(`encodePng takes 1 or 3 channels, got ${channels}`);
  if (data.length !== width * height * channels) throw new Error('encodePng: data length does not match the size');
  const stride = width * channels;
  const filtered = Buffer.alloc(height * (stride + 1));
  const cand = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    let bestSum = Infinity;
    for (let f = 0; f < 5; f++) {
      let sum = 0;
      for (let x = 0; x < stride; x++) {
        const v = data[row + x];
        const a = x >= channels ? data[row + x - channels] : 0;
        const b = y > 0 ? data[row + x - stride] : 0;
        const c = x >= channels && y > 0 ? data[row + x - stride - channels] : 0;
        let pred = 0;
        if (f === 1) pred = a;
        else if (f === 2) pred = b;
        else if (f === 3) pred = (a + b) >>> 1;
        else if (f === 4) {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
        const r = (v - pred) & 0xff;
        cand[x] = r;
        sum += r < 128 ? r : 256 - r;
      }
      if (sum < bestSum) {
        bestSum = sum;
        filtered[y * (stride + 1)] = f;
        filtered.set(cand, y * (stride + 1) + 1);
      }
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const idat = zlib.deflateSync(filtered, { level: 9, memLevel: 9, strategy: zlib.constants.Z_DEFAULT_STRATEGY });
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}
