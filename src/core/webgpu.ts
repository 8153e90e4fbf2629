// WebGPU in Node: Dawn's bindings (npm `webgpu`, prebuilt for linux, macOS and Windows inside the
// package) under @tensorflow/tfjs-backend-webgpu. Three things the browser gives tfjs and Node
// does not are supplied or worked around here:
//   - navigator.gpu and the GPU* constants, which must exist before the tfjs backend is imported;
//   - an adapter check before a run relies on it: the adapter is described (vendor, architecture,
//     driver), and software adapters (SwiftShader, lavapipe) are told apart, as they are slower
//     than the wasm kernels on the same CPU;
//   - GPU errors: WebGPU reports validation errors and device loss asynchronously, out of band,
//     and tfjs ignores them, so a rejected kernel leaves zeros in its output and the run goes on.
//     Every program tfjs dispatches runs inside an error scope here; the first error is kept with
//     the program's name and thrown by the next read of a tensor (see tensorUtil.readValues).
// Nothing here loads Dawn until loadWebgpu is called.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import type { GpuAdapter } from '../formats/run';

/** The adapter a run records, declared in src/formats/run.ts. */
export type { GpuAdapter };

/**
 * One line for an adapter, vendor and architecture first (the status bar keeps only those), then
 * the driver's description (or the device name), e.g. 'google swiftshader, SwiftShader driver
 * 5.0.0, software'.
 */
export function adapterLabel(a: GpuAdapter): string {
  return [[a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter', a.description || a.device, a.software ? 'software' : '']
    .filter(Boolean)
    .join(', ');
}

/** Where Debian's chromium-common puts SwiftShader's Vulkan driver manifest. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|software/i;

// The Vulkan loader's manifest folders on Linux (its documented search path, less XDG variants).
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', path.join(os.homedir(), '.local/share/vulkan/icd.d')];

/**
 * On Linux, why Dawn would find no Vulkan driver, without loading it: Dawn prints native warnings
 * when it does, which `auto` would otherwise show on every machine without a GPU driver.
 */
export function missingVulkanDriver(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return undefined;
  const found = ICD_DIRS.some((d) => {
    try {
      return fs.readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
  if (found) return undefined;
  return (
    `no Vulkan driver is installed (no manifest in ${ICD_DIRS.slice(0, 2).join(' or ')}): install your GPU's Vulkan driver ` +
    `and libvulkan1; for a software adapter, set VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (apt-get install chromium)`
  );
}

interface DawnModule {
  create(flags: string[]): { requestAdapter(o?: object): Promise<DawnAdapter | null> };
  globals: Record<string, unknown>;
}
interface DawnAdapter {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

// The package's own entry point is an ES module; its binary is loadable from CommonJS directly.
function requireDawn(): DawnModule {
  const root = path.dirname(require.resolve('webgpu/package.json'));
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const file = path.join(root, 'dist', `${process.platform}-${arch}`, 'dawn.node');
  if (!fs.existsSync(file)) throw new Error(`the webgpu package has no binary for ${process.platform}-${process.arch} (${file})`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as DawnModule;
}

function setNavigatorGpu(gpu: unknown | undefined): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  // Node 21+ defines a navigator of its own (without gpu); Node 20 has none.
  const nav = { ...(g.navigator ?? {}), gpu };
  if (gpu === undefined) delete nav.gpu;
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
}

export function describeAdapter(a: DawnAdapter): GpuAdapter {
  const i = a.info ?? {};
  const out = { vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '' };
  const software = Boolean(i.isFallbackAdapter ?? a.isFallbackAdapter) || SOFTWARE_NAMES.test(Object.values(out).join(' '));
  return { ...out, software };
}

/**
 * Loads Dawn, finds the adapter and starts tfjs's webgpu backend on it, then checks it with a
 * small computation read back asynchronously. Returns the adapter, or why it cannot be used; on
 * failure nothing stays registered, so the next backend can take over.
 */
export async function startWebgpu(allowSoftware: boolean): Promise<{ adapter: GpuAdapter } | { reason: string }> {
  const noDriver = missingVulkanDriver();
  if (noDriver) return { reason: noDriver };
  let dawn: DawnModule;
  try {
    dawn = requireDawn();
  } catch (e) {
    return { reason: `Dawn's binding did not load: ${firstLine(e)}` };
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const found = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!found) return { reason: 'Dawn found no WebGPU adapter (no Vulkan, Metal or D3D12 driver it accepts)' };
  const adapter = describeAdapter(found);
  if (adapter.software && !allowSoftware) {
    return {
      reason: `its only adapter is a software one (${adapterLabel(adapter)}), slower than wasm on the same CPU: use --backend webgpu to run on it anyway`,
    };
  }
  // tfjs's backend asks navigator.gpu for its own adapter and device when it initialises.
  setNavigatorGpu(gpu);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('the tfjs webgpu backend did not initialise');
    captureGpuErrors(tf.backend() as unknown as WebgpuBackendLike);
    await checkReadback();
    return { adapter };
  } catch (e) {
    stopWebgpu();
    return { reason: `the adapter (${adapterLabel(adapter)}) failed its check: ${firstLine(e)}` };
  }
}

/** Removes the webgpu backend and lets go of Dawn (whose live instance keeps Node from exiting). */
export function stopWebgpu(): void {
  errors = undefined;
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  setNavigatorGpu(undefined);
}

async function checkReadback(): Promise<void> {
  const t = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.scalar(1)));
  try {
    const v = await t.data();
    await throwGpuErrors();
    if (v[0] !== 2 || v[1] !== 3 || v[2] !== 4) throw new Error(`1 + [1, 2, 3] read back as [${Array.from(v).join(', ')}]`);
  } finally {
    t.dispose();
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0];
}

// ------------------------------------------------------------------ GPU errors as exceptions

interface GpuErrorLike {
  message: string;
}
interface DeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  onuncapturederror: ((ev: { error: GpuErrorLike }) => void) | null;
  lost: Promise<{ reason: string; message: string }>;
}
interface WebgpuBackendLike {
  device: DeviceLike;
  runWebGPUProgram(program: { constructor: { name: string } }, ...rest: unknown[]): unknown;
}

/** A kernel that WebGPU rejected, or a lost device. */
export class GpuError extends Error {
  override name = 'GpuError';
}

interface ErrorState {
  /** The first error since the last read. */
  first?: string;
  /** Error scopes not yet popped back. */
  pending: Promise<void>[];
  /** The last program dispatched: the likely culprit of an error outside any scope. */
  lastProgram: string;
  /** The device is gone: every later read fails with this. */
  lost?: string;
}
let errors: ErrorState | undefined;

function captureGpuErrors(backend: WebgpuBackendLike): void {
  const state: ErrorState = { pending: [], lastProgram: '(none yet)' };
  errors = state;
  const { device } = backend;
  const keep = (what: string) => {
    state.first ??= what;
  };
  // Errors outside any scope: at queue submission, buffer upload, or from Dawn itself.
  device.onuncapturederror = (ev) => keep(`WebGPU error after kernel ${state.lastProgram}: ${firstLine(ev.error)}`);
  // A loss after stopWebgpu (which destroys the device) is our own doing, not a failure; any
  // other, 'destroyed' included (a driver reset, another owner of the device), fails the run.
  void device.lost.then((info) => {
    if (errors === state) state.lost = `the GPU device was lost (${info.reason}) after kernel ${state.lastProgram}: ${firstLine(info) || 'no message'}`;
  });
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    const name = program.constructor.name;
    state.lastProgram = name;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    try {
      return run(program, ...rest);
    } finally {
      for (let i = 0; i < 2; i++) {
        state.pending.push(
          device.popErrorScope().then((e) => {
            if (e) keep(`WebGPU rejected kernel ${name}: ${firstLine(e)}`);
          }),
        );
      }
    }
  };
}

/**
 * Throws the first GPU error since the last call, if any (a no-op on other backends). Called
 * after each read, when the work that produced the value has run and its scopes have closed.
 */
export async function throwGpuErrors(): Promise<void> {
  const state = errors;
  if (!state) return;
  if (state.pending.length) {
    const pending = state.pending;
    state.pending = [];
    await Promise.all(pending);
  }
  if (state.lost) throw new GpuError(state.lost);
  if (state.first) {
    const message = state.first;
    state.first = undefined;
    throw new GpuError(message);
  }
}
