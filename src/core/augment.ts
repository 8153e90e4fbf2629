// The two views of method.md: random crop with zero padding, horizontal flip, brightness jitter
// (and per-channel colour jitter for RGB). Done on plain arrays with the seeded Rng, before data
// reaches the backend: cheap, and identical on every backend.

export interface ImageShape {
  height: number;
  width: number;
  channels: number;
}

export interface AugmentOptions {
  /** Crop padding in pixels; default height / 8 (4 for 32 px). */
  pad?: number;
  flip?: boolean;
  /** Brightness is scaled by a factor in [1 - j, 1 + j]. */
  brightness?: number;
  /** RGB only: each channel is scaled by a factor in [1 - j, 1 + j]. */
  colour?: number;
}

interface Rand {
  next(): number;
  int(n: number): number;
  uniform(lo: number, hi: number): number;
}

/** Augments each of the n images independently; returns a new array. */
export function augmentBatch(images: Float32Array, shape: ImageShape, rng: Rand, opts: AugmentOptions = {}): Float32Array {
  const { height: h, width: w, channels: c } = shape;
  const size = h * w * c;
  const n = images.length / size;
  const pad = opts.pad ?? Math.max(1, Math.round(h / 8));
  const flip = opts.flip ?? true;
  const bright = opts.brightness ?? 0.2;
  const colour = c === 3 ? (opts.colour ?? 0.1) : 0;
  const out = new Float32Array(images.length);
  const scale = new Float32Array(c);
  for (let i = 0; i < n; i++) {
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    const mirror = flip && rng.next() < 0.5;
    const b = rng.uniform(1 - bright, 1 + bright);
    for (let ch = 0; ch < c; ch++) scale[ch] = b * (colour > 0 ? rng.uniform(1 - colour, 1 + colour) : 1);
    const base = i * size;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      for (let x = 0; x < w; x++) {
        const o = base + (y * w + x) * c;
        const sx0 = x + dx;
        const sx = mirror ? w - 1 - sx0 : sx0;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue; // zero padding
        const s = base + (sy * w + sx) * c;
        for (let ch = 0; ch < c; ch++) {
          const v = images[s + ch] * scale[ch];
          out[o + ch] = v > 1 ? 1 : v;
        }
      }
    }
  }
  return out;
}
