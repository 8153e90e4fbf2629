// Picks the tfjs backend: tfjs-node-gpu > tfjs-node > wasm > cpu, unless one is forced.
// The native bindings are optional dependencies (their install downloads libtensorflow, which
// fails on machines without internet), so each is tried with require() and skipped if absent.
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'path';
import { UserError } from './errors';
import { registerWasmKernels } from './kernels/registerWasm';
import { KernelPath, kernelPath } from './kernels/simd';
import { registerMissingGradients } from './kernels/gradients';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

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
  /** wasm with SIMD: the build of our SIMD module the GEMM kernels run (kernels/simd). */
  kernels?: KernelPath;
  probes: BackendProbe[];
}

const PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

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
    if (!version) {
      return {
        name,
        packageName,
        available: false,
        reason: `${packageName} is not installed (npm install ${packageName} where it can install)`,
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
  // tfjs-core's CommonJS bundle defines no gradients: see scripts/vendor-gradients.js.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../../vendor/tfjs-gradients');
  registerMissingGradients();
  // Prod mode drops tfjs's console notices (such as the cpu backend's advert for tfjs-node, which
  // we already show in our own words) and its debug-only checks.
  tf.enableProdMode();
  const probes = probeBackends();
  const candidates = choice === 'auto' ? ORDER : [choice];
  const failures: string[] = [];
  for (const name of candidates) {
    const probe = probes.find((p) => p.name === name)!;
    if (!probe.available) {
      failures.push(`${name}: ${probe.reason}`);
      continue;
    }
    const why =
      name === 'wasm' ? await tryWasm() : name === 'cpu' ? await tryCpu() : await tryNative(name);
    if (why === undefined) {
      if (name === 'tensorflow-gpu' && !nativeHasGpu()) {
        failures.push(`${name}: loaded, but no CUDA device was found`);
        continue;
      }
      probe.reason = undefined;
      current = describe(name, probes);
      return current;
    }
    probe.available = false;
    probe.reason = why;
    failures.push(`${name}: ${why}`);
  }
  throw new UserError(`no usable tfjs backend for '${choice}':\n  ${failures.join('\n  ')}`);
}

function nativeHasGpu(): boolean {
  // tfjs-node-gpu falls back to the CPU silently when CUDA is missing; its backend knows.
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice !== false;
}

function describe(name: BackendName, probes: BackendProbe[]): BackendInfo {
  const info: BackendInfo = { name, tfjsName: tf.getBackend(), tfjsVersion: tf.version_core, probes };
  if (name === 'wasm') {
    info.simd = Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'));
    info.threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 2 : 1;
    if (info.simd) info.kernels = kernelPath();
  }
  return info;
}

/** The backend in use, if initialised. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
