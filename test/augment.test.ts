import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { augmentBatch, augmentOptionsOf } from '../src/core/augment';
import { defaultConfig, resolveConfig } from '../src/core/config';
import { Rng } from '../src/core/rng';

const shape = { height: 16, width: 16, channels: 1 };

/** Two 16x16 grey images: a bright bar (a stroke) and a ramp. */
function images(): Float32Array {
  const a = new Float32Array(2 * 256);
  for (let y = 0; y < 16; y++)
    for (let x = 0; x < 16; x++) {
      a[y * 16 + x] = x >= 6 && x <= 8 && y >= 3 && y <= 12 ? 1 : 0;
      a[256 + y * 16 + x] = (x + y) / 30;
    }
  return a;
}

const sum = (a: Float32Array, from = 0, to = a.length) => a.subarray(from, to).reduce((s, v) => s + v, 0);

test('the default config keeps the views that runs always had (the optional stages draw nothing)', () => {
  const x = images();
  const before = augmentBatch(x, shape, new Rng(7));
  const now = augmentBatch(x, shape, new Rng(7), augmentOptionsOf(defaultConfig('mavrl')));
  assert.deepEqual(Array.from(now), Array.from(before));
});

test('every optional stage changes the views, stays in [0, 1] and is seeded', () => {
  const x = images();
  const base = augmentBatch(x, shape, new Rng(3), { flip: false });
  for (const opts of [{ resizeMin: 0.5 }, { rotate: 15 }, { stroke: 1 }, { contrast: 0.5 }, { noise: 0.1 }, { erase: 1 }]) {
    const o = { flip: false, ...opts };
    const a = augmentBatch(x, shape, new Rng(3), o);
    const b = augmentBatch(x, shape, new Rng(3), o);
    assert.deepEqual(Array.from(a), Array.from(b), `${JSON.stringify(opts)} is not deterministic`);
    assert.notDeepEqual(Array.from(a), Array.from(base), `${JSON.stringify(opts)} changed nothing`);
    assert.ok(
      a.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)),
      `${JSON.stringify(opts)} left [0, 1]`,
    );
  }
});

test('stroke width: thickening adds ink, thinning removes it', () => {
  const x = images();
  const ink = sum(x, 0, 256);
  const seen = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const a = augmentBatch(x, shape, new Rng(seed), { flip: false, pad: 0, brightness: 0, stroke: 1 });
    const s = sum(a, 0, 256);
    assert.notEqual(s, ink);
    seen.add(s > ink ? 'thicker' : 'thinner');
  }
  assert.deepEqual([...seen].sort(), ['thicker', 'thinner']);
});

test('random erasing zeroes a rectangle', () => {
  const x = new Float32Array(256).fill(0.5);
  const a = augmentBatch(x, shape, new Rng(1), { flip: false, pad: 0, brightness: 0, erase: 1 });
  const zeros = a.filter((v) => v === 0).length;
  assert.ok(zeros >= 0.02 * 256 * 0.5 && zeros <= 0.2 * 256 * 1.5, `${zeros} pixels erased`);
});

test('the view keys are config keys, checked like the others', () => {
  const cfg = resolveConfig({ augFlip: false, augResize: 0.6, augStroke: 0.3 });
  assert.equal(cfg.augFlip, false);
  assert.equal(augmentOptionsOf(cfg).resizeMin, 0.6);
  assert.throws(() => resolveConfig({ augResize: 0 }), /'augResize' must be at least 0.05/);
});
