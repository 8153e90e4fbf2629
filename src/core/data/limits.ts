// The message for an image over the pixel limit, shared by the decoders.

function fmtPixels(n: number): string {
  return n >= 100_000 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

export function pixelLimitMessage(w: number, h: number, max: number): string {
  return `image is ${w}x${h} (${fmtPixels(w * h)}), over the limit of ${fmtPixels(max)}: shrink it, or raise the pixel limit`;
}
