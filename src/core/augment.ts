// The two views of method.md: random crop with zero padding, horizontal flip, brightness jitter
// (and per-channel colour jitter for RGB), and the optional ones chosen per run (config keys
// augResize ... augErase): a random resized crop with a small affine before, stroke width,
// contrast/gamma, noise and random erasing after. Done on plain arrays with the seeded Rng, before
// data reaches the backend: cheap, and identical on every backend. A stage that is off draws
// nothing from the Rng, so runs without the optional stages see the views they always saw.

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
  /** Random resized crop: the smallest area fraction kept (1: off); aspect ratio in [3/4, 4/3]. */
  resizeMin?: number;
  /** Small affine: rotation up to this many degrees either way, shear up to rotate/100 (0: off). */
  rotate?: number;
  /** Grey only: probability that strokes are thinned or thickened by one pixel (3x3 min or max). */
  stroke?: number;
  /** Contrast scaled in [1 - j, 1 + j] around the image mean, then gamma in [1 - j, 1 + j]^+-1 (0: off). */
  contrast?: number;
  /** Standard deviation of added Gaussian noise, in [0,1] pixel units (0: off). */
  noise?: number;
  /** Probability of erasing one random rectangle (2-20% of the area) to zero. */
  erase?: number;
}

/** The view options of a run's config (the augment* keys). */
export function augmentOptionsOf(cfg: {
  augFlip: boolean;
  augResize: number;
  augRotate: number;
  augStroke: number;
  augContrast: number;
  augNoise: number;
  augErase: number;
}): AugmentOptions {
  return {
    flip: cfg.augFlip,
    resizeMin: cfg.augResize,
    rotate: cfg.augRotate,
    stroke: cfg.augStroke,
    contrast: cfg.augContrast,
    noise: cfg.augNoise,
    erase: cfg.augErase,
  };
}

interface Rand {
  next(): number;
  int(n: number): number;
  uniform(lo: number, hi: number): number;
  normal(): number;
}

/** Augments each of the n images independently; returns a new array. */
export function augmentBatch(images: Float32Array, shape: ImageShape, rng: Rand, opts: AugmentOptions = {}): Float32Array {
  const geometric = (opts.resizeMin ?? 1) < 1 || (opts.rotate ?? 0) > 0;
  const pre = geometric ? resizedCropAffine(images, shape, rng, opts.resizeMin ?? 1, opts.rotate ?? 0) : images;
  const out = cropFlipJitter(pre, shape, rng, opts);
  const photometric = (opts.stroke ?? 0) > 0 || (opts.contrast ?? 0) > 0 || (opts.noise ?? 0) > 0 || (opts.erase ?? 0) > 0;
  return photometric ? photometricStage(out, shape, rng, opts) : out;
}

function cropFlipJitter(images: Float32Array, shape: ImageShape, rng: Rand, opts: AugmentOptions): Float32Array {
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

/** Bilinear sample of channel ch at (y, x), zero outside. */
function sample(img: Float32Array, base: number, h: number, w: number, c: number, ch: number, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  let v = 0;
  for (let dy = 0; dy < 2; dy++) {
    const yy = y0 + dy;
    if (yy < 0 || yy >= h) continue;
    const wy = dy ? fy : 1 - fy;
    for (let dx = 0; dx < 2; dx++) {
      const xx = x0 + dx;
      if (xx < 0 || xx >= w) continue;
      v += wy * (dx ? fx : 1 - fx) * img[base + (yy * w + xx) * c + ch];
    }
  }
  return v;
}

/**
 * Random resized crop (a window of area fraction in [resizeMin, 1] and aspect in [3/4, 4/3],
 * scaled back to the full size) composed with a rotation of up to `rotate` degrees and a shear of
 * up to rotate/100, both about the centre; bilinear, zero outside the image.
 */
function resizedCropAffine(images: Float32Array, shape: ImageShape, rng: Rand, resizeMin: number, rotate: number): Float32Array {
  const { height: h, width: w, channels: c } = shape;
  const size = h * w * c;
  const n = images.length / size;
  const out = new Float32Array(images.length);
  for (let i = 0; i < n; i++) {
    const area = resizeMin < 1 ? rng.uniform(resizeMin, 1) : 1;
    const aspect = resizeMin < 1 ? Math.exp(rng.uniform(Math.log(3 / 4), Math.log(4 / 3))) : 1;
    const cw = Math.min(w, w * Math.sqrt(area * aspect));
    const chh = Math.min(h, h * Math.sqrt(area / aspect));
    const ox = resizeMin < 1 ? rng.uniform(0, w - cw) : 0;
    const oy = resizeMin < 1 ? rng.uniform(0, h - chh) : 0;
    const a = rotate > 0 ? (rng.uniform(-rotate, rotate) * Math.PI) / 180 : 0;
    const sh = rotate > 0 ? rng.uniform(-rotate, rotate) / 100 : 0;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    const base = i * size;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Output pixel -> centred, un-rotated and un-sheared, then into the crop window.
        const u = x + 0.5 - w / 2;
        const v = y + 0.5 - h / 2;
        const ru = cos * u + sin * v + sh * v;
        const rv = -sin * u + cos * v;
        const sx = ox + ((ru + w / 2) * cw) / w - 0.5;
        const sy = oy + ((rv + h / 2) * chh) / h - 0.5;
        const o = base + (y * w + x) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = sample(images, base, h, w, c, ch, sy, sx);
      }
    }
  }
  return out;
}

/** 3x3 minimum (thinner bright strokes) or maximum (thicker) of a grey image, in place of `img`. */
function morph(img: Float32Array, base: number, h: number, w: number, dilate: boolean, tmp: Float32Array): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = dilate ? 0 : 1;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const v = img[base + yy * w + xx];
          m = dilate ? Math.max(m, v) : Math.min(m, v);
        }
      }
      tmp[y * w + x] = m;
    }
  }
  img.set(tmp, base);
}

function photometricStage(images: Float32Array, shape: ImageShape, rng: Rand, opts: AugmentOptions): Float32Array {
  const { height: h, width: w, channels: c } = shape;
  const size = h * w * c;
  const n = images.length / size;
  const stroke = c === 1 ? (opts.stroke ?? 0) : 0;
  const contrast = opts.contrast ?? 0;
  const noise = opts.noise ?? 0;
  const erase = opts.erase ?? 0;
  const tmp = new Float32Array(h * w);
  for (let i = 0; i < n; i++) {
    const base = i * size;
    if (stroke > 0 && rng.next() < stroke) morph(images, base, h, w, rng.next() < 0.5, tmp);
    if (contrast > 0) {
      const k = rng.uniform(1 - contrast, 1 + contrast);
      const g = rng.uniform(1 - contrast, 1 + contrast);
      const gamma = rng.next() < 0.5 ? g : 1 / g;
      let mean = 0;
      for (let j = 0; j < size; j++) mean += images[base + j];
      mean /= size;
      for (let j = 0; j < size; j++) {
        const v = Math.min(1, Math.max(0, mean + k * (images[base + j] - mean)));
        images[base + j] = Math.pow(v, gamma);
      }
    }
    if (noise > 0) {
      for (let j = 0; j < size; j++) images[base + j] = Math.min(1, Math.max(0, images[base + j] + noise * rng.normal()));
    }
    if (erase > 0 && rng.next() < erase) {
      const area = rng.uniform(0.02, 0.2) * h * w;
      const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(3.3)));
      const eh = Math.max(1, Math.min(h, Math.round(Math.sqrt(area * aspect))));
      const ew = Math.max(1, Math.min(w, Math.round(Math.sqrt(area / aspect))));
      const y0 = rng.int(h - eh + 1);
      const x0 = rng.int(w - ew + 1);
      for (let y = y0; y < y0 + eh; y++) images.fill(0, base + (y * w + x0) * c, base + (y * w + x0 + ew) * c);
    }
  }
  return images;
}
