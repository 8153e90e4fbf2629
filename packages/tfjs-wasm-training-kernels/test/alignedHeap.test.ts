import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { alignWasmTensors } from '../src';
import { startWasm, values } from './helpers/kernels';

interface Heap {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

before(startWasm);

const offset = (t: tf.Tensor): number => (tf.backend() as unknown as Heap).dataIdMap.get(t.dataId)!.memoryOffset;
const heapBytes = (): number => (tf.backend() as unknown as Heap).wasm.HEAPU8.buffer.byteLength;

test('alignWasmTensors: every tensor starts on a cache line and keeps its values; a second call changes nothing', () => {
  alignWasmTensors(tf.backend()); // startWasm did it already: idempotent
  const sizes = [1, 2, 3, 5, 17, 63, 1000, 4099];
  const ts = sizes.map((n, i) => tf.tensor1d(values(n, i + 1)));
  const computed = tf.add(ts[6], ts[6]);
  for (const t of [...ts, computed]) assert.equal(offset(t) % 64, 0, `a tensor of ${t.size} floats at ${offset(t)}`);
  sizes.forEach((n, i) => assert.deepEqual(ts[i].dataSync(), values(n, i + 1)));
  assert.deepEqual(
    computed.dataSync(),
    values(1000, 7).map((v) => v + v),
  );
  tf.dispose([...ts, computed]);
});

test('alignWasmTensors: freed tensors give their memory back (the heap does not grow over many allocations)', () => {
  const churn = () => {
    for (let i = 0; i < 50; i++) tf.dispose(tf.fill([(1 << 18) + (i % 7)], i)); // 1 MB each, odd sizes
  };
  churn();
  const bytes = heapBytes();
  for (let r = 0; r < 4; r++) churn();
  assert.equal(heapBytes(), bytes, 'the heap grew: frees did not reach the allocator');
});
