// Picks the tfjs backend: tfjs-node-gpu > webgpu > tfjs-node > wasm > cpu, unless one is forced.
// The native bindings are optional dependencies (tfjs-node's install downloads libtensorflow,
// which fails on machines without internet; Dawn's binary needs glibc >= 2.34), so each is tried
// with require() and skipped if absent.
// Why this order: tfjs-node-gpu, where its CUDA 11.2 / cuDNN 8.1 stack loads at all, runs cuDNN's
// kernels; WebGPU reaches every current GPU (Vulkan, Metal, D3D12) and beats any CPU backend on a
// real one; tfjs-node's TensorFlow beats the wasm kernels on the CPU. A software WebGPU adapter
// (SwiftShader, lavapipe) is skipped by auto: on a CPU it is slower than wasm (4.2 s against
// 1.5 s per mavrl step measured here), so it runs only when asked for by name.
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'path';
import { UserError } from './errors';
import { KernelPath, kernelPath, registerTrainingGradients, registerWasmKernels } from 'tfjs-wasm-training-kernels';
import { electronRefusal } from './realNode';
import { adapterLabel, GpuAdapter, startWebgpu } from './webgpu';

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendProbe {
  name: BackendName;
  /** The package that provides it. */
  packageName: string;
  available: boolean;
  version?: string;
  /** Why it is unavailable, in words a user can act on. */
  reason?: string;
}

export interface BackendInfo {
  /** The backend in use, under the name we show users. */
  name: BackendName;
  /** tfjs's own name for it ('tensorflow' for both native bindings). */
  tfjsName: string;
  tfjsVersion: string;
  /** wasm only: whether SIMD and threads are in use. */
  simd?: boolean;
  threads?: number;
  /** wasm with SIMD: the build of our SIMD module the GEMM kernels run (tfjs-wasm-training-kernels). */
  kernels?: KernelPath;
  /** webgpu only: the adapter it runs on. */
  adapter?: GpuAdapter;
  probes: BackendProbe[];
  /** Installed backends ahead of this one that auto passed over, each with why: said at run start. */
  skipped: string[];
}

const PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const ORDER: BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

/** Packages a backend needs besides its tfjs one: webgpu runs on Dawn's Node binding. */
const EXTRA_PACKAGES: Partial<Record<BackendName, string>> = { webgpu: 'webgpu' };

let current: BackendInfo | undefined;

function packageVersion(pkg: string): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`${pkg}/package.json`).version as string;
  } catch {
    return undefined;
  }
}

/** Which backends could be loaded here, without loading any of them. */
export function probeBackends(): BackendProbe[] {
  return ORDER.map((name) => {
    const packageName = PACKAGES[name];
    const version = packageVersion(packageName);
    const missing = [packageName, EXTRA_PACKAGES[name]].filter((p): p is string => p !== undefined && !packageVersion(p));
    if (missing.length) {
      return {
        name,
        packageName,
        available: false,
        reason: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed (npm install ${missing.join(' ')} where it can install)`,
      };
    }
    return { name, packageName, available: true, version };
  });
}

async function tryNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<string | undefined> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(PACKAGES[name]);
    if (!(await tf.setBackend('tensorflow'))) return 'its backend did not initialise';
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dir + path.sep);
    registerWasmKernels();
    if (!(await tf.setBackend('wasm'))) return 'the wasm module did not initialise';
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

async function tryCpu(): Promise<string | undefined> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-cpu');
  return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend did not initialise';
}

/**
 * Selects and initialises a backend. 'auto' takes the best present one; a forced choice that
 * cannot load is an error naming why. Calling again with the same choice is free.
 */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (current && (choice === 'auto' || choice === current.name)) return current;
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`unknown backend '${choice}': use one of ${BACKEND_CHOICES.join(', ')}`);
  }
  // tfjs-core's CommonJS bundle defines no gradients; the kernels package registers them (every
  // backend needs them), with the second-order ones tfjs lacks.
  registerTrainingGradients();
  // Prod mode drops tfjs's console notices (such as the cpu backend's advert for tfjs-node, which
  // we already show in our own words) and its debug-only checks.
  tf.enableProdMode();
  const probes = probeBackends();
  const candidates = choice === 'auto' ? ORDER : [choice];
  const failures: string[] = [];
  const skipped: string[] = [];
  for (const name of candidates) {
    const probe = probes.find((p) => p.name === name)!;
    if (!probe.available) {
      failures.push(`${name}: ${probe.reason}`);
      continue;
    }
    let adapter: GpuAdapter | undefined;
    // Under Electron, Dawn and tfjs-node would not fail cleanly: they are never loaded there.
    let why = electronRefusal(name);
    if (why === undefined && name === 'webgpu') {
      const started = await startWebgpu(choice === 'webgpu');
      if ('reason' in started) why = started.reason;
      else adapter = started.adapter;
    } else if (why === undefined) {
      why = name === 'wasm' ? await tryWasm() : name === 'cpu' ? await tryCpu() : await tryNative(name as 'tensorflow-gpu' | 'tensorflow');
    }
    if (why === undefined) {
      if (name === 'tensorflow-gpu' && !nativeHasGpu()) {
        failures.push(`${name}: loaded, but no CUDA device was found`);
        skipped.push(`${name} skipped: loaded, but no CUDA device was found`);
        continue;
      }
      probe.reason = undefined;
      current = { ...describe(name, probes, adapter), skipped };
      return current;
    }
    probe.available = false;
    probe.reason = why;
    failures.push(`${name}: ${why}`);
    skipped.push(`${name} skipped: ${why}`);
  }
  throw new UserError(`no usable tfjs backend for '${choice}':\n  ${failures.join('\n  ')}`);
}

function nativeHasGpu(): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; its backend knows.
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice !== false;
}

function describe(name: BackendName, probes: BackendProbe[], adapter: GpuAdapter | undefined): Omit<BackendInfo, 'skipped'> {
  const info: Omit<BackendInfo, 'skipped'> = { name, tfjsName: tf.getBackend(), tfjsVersion: tf.version_core, probes };
  if (adapter) info.adapter = adapter;
  if (name === 'wasm') {
    info.simd = Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'));
    info.threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 2 : 1;
    if (info.simd) info.kernels = kernelPath();
  }
  return info;
}

/** The backend in one line, as the status bar and run logs show it: 'webgpu (nvidia ampere, ...)'. */
export function backendLabel(info: Pick<BackendInfo, 'name' | 'adapter'>): string {
  return info.adapter ? `${info.name} (${adapterLabel(info.adapter)})` : info.name;
}

/** The backend in use, if initialised. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
