// robust-meta doctor: what runs the GEMM loops (the native addon or a wasm build), and a clear
// message, not a stack trace, for a ROBUST_META_KERNELS that names no path.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { kernelPath, nativeUnavailable } from 'tfjs-wasm-training-kernels';

const BIN = path.join(__dirname, '..', '..', 'bin', 'robust-meta.js');

function doctor(env: NodeJS.ProcessEnv, json: boolean) {
  return spawnSync(process.execPath, [BIN, 'doctor', '--backend', 'wasm', ...(json ? ['--json'] : [])], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('doctor names the kernel path in use and, where it is not native, why', () => {
  const r = doctor({ ROBUST_META_KERNELS: '' }, true);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { backend: { kernels: string; nativeUnavailable: string | null } };
  assert.equal(report.backend.kernels, kernelPath());
  assert.equal(report.backend.nativeUnavailable, nativeUnavailable() ?? null);
  const text = doctor({ ROBUST_META_KERNELS: 'wasm-simd-fma' }, false);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^kernels +wasm-simd-fma for the GEMM loops; native kernels /m);
});

test('a ROBUST_META_KERNELS that names no path is a clear error', () => {
  const r = doctor({ ROBUST_META_KERNELS: 'avx9' }, false);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /kernels: avx9 \(ROBUST_META_KERNELS\?\) is none of auto, native-avx512, native-avx2, wasm-simd-fma, wasm-simd/);
  assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m);
});
