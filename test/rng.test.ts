// The seeded stream every run's episodes, views and attack starts come from: a resumed run must
// see the numbers it would have seen, so the stream is pinned to xoshiro128**'s definition and
// the fast bulk draw to the one-at-a-time one.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from '../src/core/rng';

/** xoshiro128** as published (Blackman and Vigna), on uint32 words. */
function reference(state: number[], n: number): number[] {
  const s = state.map((w) => w >>> 0);
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0);
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
  }
  return out;
}

// Small words, words with the top bit set, and a seeded state.
const STATES = [[1, 2, 3, 4], [0xffffffff, 0x80000000, 0xdeadbeef, 0x9e3779b9], new Rng([7, 3]).getState()];

test('nextU32 is xoshiro128**', () => {
  assert.deepEqual(reference([1, 2, 3, 4], 2), [11520, 0]);
  for (const state of STATES) {
    const r = Rng.fromState(state);
    assert.deepEqual(
      Array.from({ length: 1000 }, () => r.nextU32()),
      reference(state, 1000),
    );
  }
});

test('uniformArray gives the numbers of as many next() calls, and leaves the stream where they do', () => {
  for (const state of STATES) {
    for (const [lo, hi] of [
      [0, 1],
      [-8 / 255, 8 / 255],
      [0, 256],
    ]) {
      const bulk = Rng.fromState(state);
      const single = Rng.fromState(state);
      const got = bulk.uniformArray(999, lo, hi);
      const want = Float32Array.from({ length: 999 }, () => lo + (hi - lo) * single.next());
      assert.deepEqual(got, want, `state ${state}, [${lo}, ${hi})`);
      assert.deepEqual(bulk.getState(), single.getState());
      // In float32, lo and hi themselves rounded.
      assert.ok(got.every((v) => v >= Math.fround(lo) && v <= Math.fround(hi)));
    }
  }
});
