// The JavaScript decoders (PNG fast path, BMP), the resizer, channel conversion and IDX files,
// checked against sharp or against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'zlib';
import sharp from 'sharp';
import {
  convertChannels,
  decodeBmp,
  decodeImage,
  decodePng,
  encodeBmp,
  encodeIdx,
  encodePng,
  gzipDeterministic,
  parseIdx,
  probeImage,
  resizeRaw,
} from '../src/core/data';
import { crc32 } from '../src/core/checksum';

const OPTS = { maxPixels: 50e6 };

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A smooth-ish image, so that every PNG filter type gets chosen somewhere. */
function mixed(w: number, h: number, c: number): Uint8Array {
  const n = noise(w * h * c, 7);
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const i = (y * w + x) * c + k;
        out[i] = y % 4 === 0 ? n[i] : y % 4 === 1 ? (x * 9 + k * 40) & 0xff : y % 4 === 2 ? (y * 7) & 0xff : (x * y + k) & 0xff;
      }
  return out;
}

test('crc32 matches zlib', () => {
  const b = noise(1000, 3);
  const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (z) assert.equal(crc32(b), z(b));
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('our PNG encoder and decoder round-trip, and sharp agrees, for grey and RGB and odd sizes', async () => {
  for (const [w, h, c] of [
    [28, 28, 1],
    [13, 7, 3],
    [1, 1, 1],
    [31, 5, 3],
  ]) {
    const data = mixed(w, h, c);
    const png = encodePng({ width: w, height: h, channels: c, data });
    const ours = decodePng(png);
    assert.deepEqual([ours.width, ours.height, ours.channels], [w, h, c]);
    assert.deepEqual(Buffer.from(ours.data), Buffer.from(data));
    // sharp gives grey images back as RGB with R = G = B.
    const viaSharp = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const back = convertChannels({ width: w, height: h, channels: viaSharp.info.channels, data: viaSharp.data }, c);
    assert.deepEqual(Buffer.from(back.data), Buffer.from(data));
  }
  // The encoder is deterministic.
  const d = mixed(20, 20, 3);
  assert.ok(encodePng({ width: 20, height: 20, channels: 3, data: d }).equals(encodePng({ width: 20, height: 20, channels: 3, data: d })));
});

test('the PNG fast path decodes what sharp writes (every filter, alpha, palette) exactly as sharp does', async () => {
  const w = 17;
  const h = 11;
  const rgb = mixed(w, h, 3);
  const raw = () => sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } });
  const cases: [string, Buffer][] = [
    ['rgb', await raw().png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer()],
    ['rgba', await raw().ensureAlpha(0.3).png({ adaptiveFiltering: true }).toBuffer()],
    ['grey', await raw().greyscale().png({ adaptiveFiltering: true }).toBuffer()],
    ['grey+alpha', await raw().greyscale().ensureAlpha(0.5).png().toBuffer()],
    ['palette', await raw().png({ palette: true, colours: 64, dither: 0 }).toBuffer()],
  ];
  for (const [name, png] of cases) {
    const ours = await decodeImage(png, undefined, OPTS);
    const ref = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    // sharp keeps alpha; compare colour channels only.
    const refColour = convertChannels({ width: w, height: h, channels: ref.info.channels, data: ref.data }, ours.channels);
    assert.deepEqual(Buffer.from(ours.data), Buffer.from(refColour.data), name);
  }
  // A larger image that sharp writes as several IDAT chunks.
  const big = noise(400 * 300 * 3, 11);
  const multi = await sharp(Buffer.from(big), { raw: { width: 400, height: 300, channels: 3 } })
    .png()
    .toBuffer();
  let idats = 0;
  for (let pos = 8; pos < multi.length; pos += 12 + multi.readUInt32BE(pos)) if (multi.toString('latin1', pos + 4, pos + 8) === 'IDAT') idats++;
  assert.ok(idats > 1, `${idats} IDAT chunks`);
  assert.ok(Buffer.from(decodePng(multi).data).equals(Buffer.from(big)));
  // A palette of greys gives a 1-channel image.
  const greyPalette = await sharp(Buffer.from(mixed(w, h, 1)), { raw: { width: w, height: h, channels: 1 } })
    .png({ palette: true, colours: 16 })
    .toBuffer();
  const p = await probeImage(greyPalette, OPTS);
  assert.equal(p.channels, (await decodeImage(greyPalette, undefined, OPTS)).channels);
  // 16-bit and interlaced PNGs go through sharp.
  const deep = await sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  const d = await decodeImage(deep, undefined, OPTS);
  assert.deepEqual([d.width, d.height, d.channels], [w, h, 3]);
  const mad = d.data.reduce((a, v, i) => a + Math.abs(v - rgb[i]), 0) / d.data.length;
  assert.ok(mad < 1.01, `16-bit PNG decodes to 8 bits (mean abs difference ${mad})`);
});

test('damaged PNGs give reasons', () => {
  const png = encodePng({ width: 9, height: 9, channels: 1, data: mixed(9, 9, 1) });
  assert.throws(() => decodePng(png.subarray(0, png.length - 12)), /truncated PNG \(no IEND chunk\)/);
  assert.throws(() => decodePng(png.subarray(0, 50)), /truncated PNG \(chunk IDAT runs past the end/);
  const bad = Buffer.from(png);
  bad[45] ^= 1;
  assert.throws(() => decodePng(bad), /CRC mismatch in chunk IDAT/);
  assert.throws(() => decodePng(Buffer.from('nope')), /not a PNG/);
});

function bmpV5Bitfields32(w: number, h: number, rgb: Uint8Array, topDown: boolean): Buffer {
  const stride = w * 4;
  const off = 14 + 124;
  const out = Buffer.alloc(off + stride * h);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(off, 10);
  out.writeUInt32LE(124, 14);
  out.writeInt32LE(w, 18);
  out.writeInt32LE(topDown ? -h : h, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(32, 28);
  out.writeUInt32LE(3, 30); // BI_BITFIELDS
  out.writeUInt32LE(0x0000ff00, 54); // red in the second byte
  out.writeUInt32LE(0x00ff0000, 58); // green in the third
  out.writeUInt32LE(0xff000000, 62); // blue in the fourth
  out.writeUInt32LE(0x000000ff, 66); // alpha in the first
  for (let y = 0; y < h; y++) {
    const row = off + (topDown ? y : h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const i = 3 * (y * w + x);
      out[row + 4 * x] = 0x80;
      out[row + 4 * x + 1] = rgb[i];
      out[row + 4 * x + 2] = rgb[i + 1];
      out[row + 4 * x + 3] = rgb[i + 2];
    }
  }
  return out;
}

function bmpPalette(w: number, h: number, bits: 1 | 4, indices: number[], palette: number[][]): Buffer {
  const stride = Math.floor((bits * w + 31) / 32) * 4;
  const off = 14 + 40 + 4 * palette.length;
  const out = Buffer.alloc(off + stride * h);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(off, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(w, 18);
  out.writeInt32LE(h, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bits, 28);
  out.writeUInt32LE(palette.length, 46);
  palette.forEach(([r, g, b], i) => {
    out[54 + 4 * i] = b;
    out[55 + 4 * i] = g;
    out[56 + 4 * i] = r;
  });
  for (let y = 0; y < h; y++) {
    const row = off + (h - 1 - y) * stride;
    for (let x = 0; x < w; x++) {
      const perByte = 8 / bits;
      const shift = 8 - bits * ((x % perByte) + 1);
      out[row + Math.floor(x / perByte)] |= indices[y * w + x] << shift;
    }
  }
  return out;
}

test('BMP: 8-bit grey, 24-bit with row padding, 32-bit bit fields top-down, 1- and 4-bit palettes; RLE refused', () => {
  const w = 7;
  const h = 5;
  const grey = mixed(w, h, 1);
  const rgb = mixed(w, h, 3);
  const g = decodeBmp(encodeBmp({ width: w, height: h, channels: 1, data: grey }));
  assert.equal(g.channels, 1);
  assert.deepEqual(Buffer.from(g.data), Buffer.from(grey));
  const c = decodeBmp(encodeBmp({ width: w, height: h, channels: 3, data: rgb }));
  assert.equal(c.channels, 3);
  assert.deepEqual(Buffer.from(c.data), Buffer.from(rgb));
  for (const topDown of [true, false]) {
    const v5 = decodeBmp(bmpV5Bitfields32(w, h, rgb, topDown));
    assert.deepEqual(Buffer.from(v5.data), Buffer.from(rgb), `32-bit bit fields, topDown ${topDown}`);
  }
  const idx = Array.from({ length: w * h }, (_, i) => (i * 3) % 4);
  const pal = [
    [0, 0, 0],
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
  ];
  const four = decodeBmp(bmpPalette(w, h, 4, idx, pal));
  assert.equal(four.channels, 3);
  assert.deepEqual(Array.from(four.data.subarray(0, 9)), [...pal[idx[0]], ...pal[idx[1]], ...pal[idx[2]]]);
  const bits = Array.from({ length: w * h }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const one = decodeBmp(
    bmpPalette(w, h, 1, bits, [
      [0, 0, 0],
      [255, 255, 255],
    ]),
  );
  assert.equal(one.channels, 1);
  assert.deepEqual(
    Array.from(one.data),
    bits.map((b) => b * 255),
  );
  const rle = encodeBmp({ width: w, height: h, channels: 1, data: grey });
  rle.writeUInt32LE(1, 30);
  assert.throws(() => decodeBmp(rle), /unsupported BMP compression RLE8/);
  const huge = encodeBmp({ width: w, height: h, channels: 3, data: rgb });
  huge.writeInt32LE(20000, 18);
  huge.writeInt32LE(20000, 22);
  assert.throws(() => decodeBmp(huge, 50e6), /over the limit of 50\.0 megapixels/);
});

test('resize: constants stay constant, hand-computed weights, any size; channel conversion', () => {
  const flat = { width: 9, height: 6, channels: 3, data: new Uint8Array(9 * 6 * 3).fill(77) };
  for (const [h, w] of [
    [3, 4],
    [12, 20],
    [6, 9],
    [1, 1],
  ]) {
    const r = resizeRaw(flat, h, w);
    assert.deepEqual([r.height, r.width, r.channels], [h, w, 3]);
    assert.ok(r.data.every((v) => v === 77));
  }
  // 4 -> 2 in one dimension: antialiased triangle weights 0.75, 0.75, 0.25 (normalised) around
  // the centre, as PIL's bilinear filter computes them.
  const row = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 100, 200, 255]) };
  const r = resizeRaw(row, 1, 2);
  assert.deepEqual(Array.from(r.data), [Math.round((0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75), Math.round((100 * 0.25 + 200 * 0.75 + 255 * 0.75) / 1.75)]);
  const grey = convertChannels({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0]) }, 1);
  assert.deepEqual(Array.from(grey.data), [76]);
  const rgb = convertChannels({ width: 1, height: 1, channels: 1, data: Uint8Array.from([9]) }, 3);
  assert.deepEqual(Array.from(rgb.data), [9, 9, 9]);
  const rgba = convertChannels({ width: 1, height: 1, channels: 4, data: Uint8Array.from([1, 2, 3, 0]) }, 3);
  assert.deepEqual(Array.from(rgba.data), [1, 2, 3]);
});

test('IDX: encode, parse, deterministic gzip that gunzip reads', () => {
  const data = mixed(5, 4, 1);
  const idx = encodeIdx([1, 4, 5], data);
  const parsed = parseIdx(idx, 'x');
  assert.deepEqual(parsed.dims, [1, 4, 5]);
  assert.deepEqual(Buffer.from(parsed.data), Buffer.from(data));
  const gz = gzipDeterministic(idx);
  assert.ok(gz.equals(gzipDeterministic(idx)));
  assert.deepEqual(zlib.gunzipSync(gz), idx);
  assert.equal(gz.readUInt32LE(4), 0, 'mtime 0');
  const float = Buffer.from(idx);
  float[2] = 0x0d;
  assert.throws(() => parseIdx(float, 'f.idx'), /f\.idx holds float32 values; only unsigned-byte IDX files/);
});
