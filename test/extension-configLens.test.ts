import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configMatchesRun, latestRun, lensTitle } from '../src/extension/configLensModel';

test('configMatchesRun: every value the file sets, paths and machine choices aside', () => {
  const run = { method: 'mavrl', steps: 40, ways: 3, data: '/abs/data', backend: 'wasm' };
  assert.equal(configMatchesRun({ method: 'mavrl', steps: 40, data: 'data' }, run), true);
  assert.equal(configMatchesRun({ method: 'mavrl', steps: 50 }, run), false);
  assert.equal(configMatchesRun({}, run), true);
  assert.equal(configMatchesRun({ eps: [1] }, { eps: [1] }), true);
});

test('latestRun: the newest by creation time', () => {
  assert.equal(
    latestRun([
      { id: 'a', createdAt: '2026-01-01T00:00:00Z' },
      { id: 'b', createdAt: '2026-02-01T00:00:00Z' },
    ])!.id,
    'b',
  );
  assert.equal(latestRun([]), undefined);
});

test('lensTitle: method, state and figures, saying where training figures come from', () => {
  const base = { id: 'r', dir: '/r', method: 'mavrl', state: 'done', step: 40, totalSteps: 40 };
  assert.equal(lensTitle({ ...base, clean: 48.81, robust: 12.04, source: 'evaluation' }), 'mavrl · done · clean 48.8 / robust 12.0 · open dashboard');
  assert.equal(
    lensTitle({ ...base, state: 'running', step: 3, clean: 40, robust: 10, source: 'training' }),
    'mavrl · running 3/40 · train clean 40.0 / robust 10.0 · open dashboard',
  );
  assert.equal(lensTitle({ ...base, clean: null, robust: null, source: 'none' }), 'mavrl · done · open dashboard');
});
