// Turning one image file's bytes into 8-bit pixels of a target size and channel count.
// Small PNGs and every BMP are decoded here in JavaScript; all else goes through sharp
// (libvips), at its native size. Resizing and channel conversion (grey <-> RGB, alpha dropped)
// always happen here, so every format is treated the same way; and a JavaScript resize of a small
// image costs microseconds where a round trip through sharp costs a millisecond or more.

import sharp from 'sharp';
import { decodeBmp, isBmp, readBmpHeader } from './bmp';
import { decodePng, pngColourChannels, pngFastPathSupports, readPngHeader, type RawImage } from './png';

export type { RawImage } from './png';

/** File name endings (lower case) that the folder loader treats as images. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.webp', '.gif', '.bmp', '.dib', '.tif', '.tiff'];

export function hasImageExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot >= 0 && IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}

export interface TargetShape {
  height: number;
  width: number;
  /** 1 or 3. */
  channels: number;
}

export interface DecodeOptions {
  /** Images with more pixels than this are refused before they are decoded. */
  maxPixels: number;
}

/** Size and colour channel count (1 or 3, alpha not counted), read from the header where possible. */
export interface ImageProbe {
  width: number;
  height: number;
  channels: number;
}

export { pixelLimitMessage } from './limits';
import { pixelLimitMessage } from './limits';

/** Reads an image's size and channel count without decoding its pixels (sharp's header parse, or our own). */
export async function probeImage(buf: Uint8Array, opts: DecodeOptions): Promise<ImageProbe> {
  if (buf.length === 0) throw new Error('the file is empty (0 bytes)');
  const png = readPngHeader(buf);
  if (png) {
    if (png.width * png.height > opts.maxPixels) throw new Error(pixelLimitMessage(png.width, png.height, opts.maxPixels));
    if (png.colorType !== 3) return { width: png.width, height: png.height, channels: pngColourChannels(png) };
    // Palette images: the palette decides grey or colour, so decode (they are small in practice).
    return shapeOf(await decodeImage(buf, undefined, opts));
  }
  if (isBmp(buf)) {
    const h = readBmpHeader(buf);
    if (h && h.bitCount > 8) {
      if (h.width * h.height > opts.maxPixels) throw new Error(pixelLimitMessage(h.width, h.height, opts.maxPixels));
      return { width: h.width, height: h.height, channels: 3 };
    }
    return shapeOf(await decodeImage(buf, undefined, opts));
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'truncated' }).metadata();
  } catch (e) {
    throw new Error(sharpReason(e));
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!width || !height) throw new Error('the image has no size in its header');
  if (width * height > opts.maxPixels) throw new Error(pixelLimitMessage(width, height, opts.maxPixels));
  const colour = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0);
  return { width, height, channels: colour >= 3 ? 3 : 1 };
}

function shapeOf(img: RawImage): ImageProbe {
  return { width: img.width, height: img.height, channels: img.channels };
}

function sharpReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/pixel limit/i.test(msg)) return `${msg} (the loader refuses images this large; resize it first)`;
  return msg.replace(/\s+/g, ' ').trim();
}

/**
 * Decodes an image. With a target, the result has exactly the target's height, width and
 * channels (stretched to fit, no cropping); without one, the native size and 1 or 3 channels.
 * Throws an Error whose message says what is wrong with the bytes (the caller adds the file name).
 */
export async function decodeImage(buf: Uint8Array, target: TargetShape | undefined, opts: DecodeOptions): Promise<RawImage> {
  if (buf.length === 0) throw new Error('the file is empty (0 bytes)');
  let img: RawImage;
  const png = readPngHeader(buf);
  if (png && pngFastPathSupports(png)) {
    img = decodePng(buf, opts.maxPixels);
  } else if (isBmp(buf)) {
    img = decodeBmp(buf, opts.maxPixels);
  } else {
    try {
      const { data, info } = await sharp(buf, { limitInputPixels: opts.maxPixels, failOn: 'truncated' })
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      img = dropAlpha({ width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    } catch (e) {
      throw new Error(sharpReason(e));
    }
  }
  if (!target) return img;
  // Convert first when that shrinks the data (RGB -> grey), last when it grows it.
  if (target.channels < img.channels) img = convertChannels(img, target.channels);
  img = resizeRaw(img, target.height, target.width);
  return convertChannels(img, target.channels);
}

/** 2 -> 1 and 4 -> 3 channels by dropping alpha (as PIL's convert does); 1 and 3 pass through. */
export function dropAlpha(img: RawImage): RawImage {
  if (img.channels === 1 || img.channels === 3) return img;
  if (img.channels !== 2 && img.channels !== 4) throw new Error(`unexpected channel count ${img.channels}`);
  const keep = img.channels - 1;
  const n = img.width * img.height;
  const out = new Uint8Array(n * keep);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += img.channels) for (let c = 0; c < keep; c++) out[k++] = img.data[j + c];
  return { ...img, channels: keep, data: out };
}

/** Grey -> RGB by replication; RGB -> grey with ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), as PIL does. */
export function convertChannels(img: RawImage, channels: number): RawImage {
  const src = dropAlpha(img);
  if (src.channels === channels) return src;
  const n = src.width * src.height;
  if (channels === 3) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src.data[i];
    return { ...src, channels: 3, data: out };
  }
  if (channels === 1) {
    const out = new Uint8Array(n);
    const d = src.data;
    for (let i = 0; i < n; i++) out[i] = Math.round((d[3 * i] * 299 + d[3 * i + 1] * 587 + d[3 * i + 2] * 114) / 1000);
    return { ...src, channels: 1, data: out };
  }
  throw new Error(`cannot convert to ${channels} channels (use 1 or 3)`);
}

interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** count[i] weights per output position, padded to `taps`. */
  weights: Float32Array;
  taps: number;
}

/** Triangle-filter weights, widened by the scale when shrinking (antialiased), as PIL computes them. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(Math.floor(centre - support + 0.5), 0);
    const hi = Math.min(Math.floor(centre + support + 0.5), inSize);
    let total = 0;
    for (let x = lo; x < hi; x++) {
      const w = Math.max(0, 1 - Math.abs((x - centre + 0.5) / filterScale));
      weights[o * taps + (x - lo)] = w;
      total += w;
    }
    if (total > 0) for (let k = 0; k < hi - lo; k++) weights[o * taps + k] /= total;
    start[o] = lo;
    count[o] = hi - lo;
  }
  return { start, count, weights, taps };
}

/**
 * Resizes 8-bit pixels to height x width (stretching, no crop) with an antialiased bilinear
 * (triangle) filter, separably, like PIL's and torchvision's bilinear resize with antialiasing.
 */
export function resizeRaw(img: RawImage, height: number, width: number): RawImage {
  if (img.height === height && img.width === width) return img;
  const c = img.channels;
  const src = img.data;
  const wx = axisWeights(img.width, width);
  const wy = axisWeights(img.height, height);
  // Horizontal pass into floats: img.height rows of width * c.
  const tmp = new Float32Array(img.height * width * c);
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width * c;
    for (let x = 0; x < width; x++) {
      const s0 = wx.start[x];
      const n = wx.count[x];
      const wo = x * wx.taps;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += wx.weights[wo + k] * src[row + (s0 + k) * c + ch];
        tmp[(y * width + x) * c + ch] = acc;
      }
    }
  }
  // Vertical pass.
  const out = new Uint8Array(height * width * c);
  const stride = width * c;
  for (let y = 0; y < height; y++) {
    const s0 = wy.start[y];
    const n = wy.count[y];
    const wo = y * wy.taps;
    for (let i = 0; i < stride; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += wy.weights[wo + k] * tmp[(s0 + k) * stride + i];
      const v = Math.round(acc);
      out[y * stride + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, channels: c, data: out };
}
