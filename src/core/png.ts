// Small images in [0,1] (NHWC floats, as the engine holds them) to PNG bytes, for the sample
// perturbations that the dashboard, the report and eval show. Returns buffers: writing them is
// the caller's business (the core does no run-folder I/O). Uses the data layer's deterministic
// PNG encoder, which is much faster than sharp for images this small.
import { encodePng } from './data/png';

export interface PngOptions {
  /** Nearest-neighbour upscaling factor (a whole number >= 1), so 28x28 images stay crisp. */
  scale?: number;
}

/** Rounds [0,1] floats to bytes; values outside are clamped. */
export function toBytes(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

function upscale(bytes: Uint8Array, height: number, width: number, channels: number, k: number): Uint8Array {
  const out = new Uint8Array(bytes.length * k * k);
  const ow = width * k;
  for (let y = 0; y < height * k; y++) {
    const sy = Math.floor(y / k);
    for (let x = 0; x < ow; x++) {
      const src = (sy * width + Math.floor(x / k)) * channels;
      const dst = (y * ow + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = bytes[src + c];
    }
  }
  return out;
}

/** One image (height * width * channels values in [0,1], channels 1 or 3) as a PNG. */
export function imageToPng(pixels: ArrayLike<number>, height: number, width: number, channels: number, opts: PngOptions = {}): Buffer {
  if (channels !== 1 && channels !== 3) throw new Error(`PNG images here have 1 or 3 channels, got ${channels}`);
  if (pixels.length !== height * width * channels) {
    throw new Error(`${pixels.length} values for a ${width}x${height}x${channels} image`);
  }
  const k = opts.scale ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new Error(`PNG scale must be a whole number >= 1, got ${k}`);
  let bytes = toBytes(pixels);
  if (k > 1) bytes = upscale(bytes, height, width, channels, k);
  return encodePng({ width: width * k, height: height * k, channels, data: bytes });
}
