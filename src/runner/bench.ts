// Times meta-steps on random data, for comparing backends and implementations. The default is the
// benchmark step of docs/method.md: one mavrl meta-step, 32x32x3 images, Conv4 width 64, 5-way
// 1-shot 15 queries, meta-batch 4, 1 inner step, 3 attack steps, first-order, Adam.
import * as fs from 'fs';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../core/backend';
import { CONV_KERNELS, KernelPath, fmaFused, measuredPeakPerCore, profileKernels } from 'tfjs-wasm-training-kernels';
import { adapterLabel } from '../core/webgpu';
import { Config, resolveConfig } from '../core/config';
import { Dataset, Episode } from '../core/data';
import { DEFAULT_ATTACK_STEPS, DEFAULT_CURVE_255, DEFAULT_EPS, evaluate } from '../core/evaluate';
import { evalThreadCount } from '../core/eval/threads';
import { LocalExecutor, MetaLearner, modelSpecOf, threadCount } from '../core/meta/learner';
import { piecesPerTask } from '../core/meta/split';
import { initModel } from '../core/model';
import { disposeParams } from '../core/model/params';
import { Rng } from '../core/rng';
import { packageVersion } from './packageInfo';

/** Timed steps when --steps is not given (the config's own default, 1000, is for training). */
export const BENCH_DEFAULT_STEPS = 5;

export interface BenchResult {
  /** Mean over the timed steps (the warm-up step excluded). */
  ms_per_step: number;
  ms_min: number;
  ms_median: number;
  ms_max: number;
  warmup_ms: number;
  steps: number;
  backend: string;
  /** webgpu: the adapter, in one line. */
  adapter?: string;
  simd?: boolean;
  threads?: number;
  /** wasm with SIMD: the build of our SIMD kernels that ran, 'wasm-simd-fma' or 'wasm-simd'. */
  kernels?: KernelPath;
  /** wasm: the arithmetic of the step against the machine's peak (absent on other backends). */
  flops?: StepFlops;
  /** Threads sharing the tasks of a meta-batch (config 'workers'; 0 means one per core). */
  task_threads: number;
  /** Pieces each task is cut into for those threads (2: mavrl's views on separate threads; 1: whole tasks). */
  task_pieces: number;
  /** Live tensors after the warm-up step and after the timed steps: equal when nothing leaks. */
  num_tensors_before: number;
  num_tensors_after: number;
  /** Resident memory after the second step (warm-up and first timed step), and at the end. */
  rss_mb_step2: number;
  rss_mb: number;
  peak_rss_mb: number;
  method: string;
  setting: Pick<Config, 'imageSize' | 'channels' | 'backbone' | 'width' | 'ways' | 'shots' | 'queries' | 'metaBatch' | 'innerSteps' | 'attackSteps' | 'order'>;
  versions: Versions;
  cpus: number;
}

/**
 * The machine's peak for the GEMM path in use, an estimate: cores x clock x floating-point
 * operations per cycle and core. x86 cores since Haswell and Zen issue two vector multiply-adds
 * per cycle, so with fused multiply-add it is 2 pipes x lanes x 2: 64 for the native AVX-512 path
 * (16 lanes; Xeons with a single 512-bit FMA unit do half), 32 for native AVX2 (8 lanes), 16 for
 * wasm SIMD's 4 lanes. Multiply then add takes two instructions: 8 where the same two pipes do
 * both (Intel), 16 on AMD Zen, which has two more pipes for the adds. The clock is /proc/cpuinfo's `cpu MHz` (what the OS
 * reports, often the base clock: turbo may run faster, so a kernel can exceed this "peak").
 */
export interface PeakEstimate {
  cores: number;
  clock_mhz: number;
  flops_per_cycle: number;
  gflops_per_core: number;
  gflops: number;
  /**
   * Measured on the native paths: one core's GFLOP/s in a register-only loop of fused
   * multiply-adds on the path's vectors (the cores' boost above the reported clock shows here).
   */
  measured_gflops_per_core?: number;
}

export interface StepFlops {
  /** GFLOP of one step in the GEMM kernels (convolutions, backprops, batched products), counted from their shapes. */
  step_gflop: number;
  /** The part in the three convolution kernels (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter). */
  conv_gflop: number;
  /** Achieved by the convolution kernels on one core: conv_gflop / their CPU time in a profiled step on one thread. */
  conv_gflops: number;
  /** Achieved by the whole step: step_gflop / ms_per_step (wall time, every task thread). */
  step_gflops: number;
  /** Share of the step's CPU time (profiled, one thread) in the convolution kernels. */
  conv_cpu_share: number;
  peak: PeakEstimate;
}

/** See PeakEstimate. */
export function peakEstimate(path: KernelPath | undefined, cpuinfo = readCpuinfo()): PeakEstimate {
  const mhz = [...cpuinfo.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  const clock = mhz.length ? mhz.reduce((a, b) => a + b, 0) / mhz.length : (os.cpus()[0]?.speed ?? 0);
  const amd = /^vendor_id\s*:\s*AuthenticAMD/m.test(cpuinfo);
  const fused = path === 'wasm-simd-fma' && fmaFused();
  const flopsPerCycle = path === 'native-avx512' ? 64 : path === 'native-avx2' ? 32 : fused || amd ? 16 : 8;
  const cores = os.cpus().length;
  const perCore = (clock * flopsPerCycle) / 1000;
  return { cores, clock_mhz: round(clock), flops_per_cycle: flopsPerCycle, gflops_per_core: round(perCore), gflops: round(perCore * cores) };
}

/** The estimate with the measured per-core peak where the path can measure it. */
function withMeasuredPeak(estimate: PeakEstimate, path: KernelPath | undefined): PeakEstimate {
  const measured = path ? measuredPeakPerCore(path) : undefined;
  return measured ? { ...estimate, measured_gflops_per_core: round(measured) } : estimate;
}

/** /proc/cpuinfo's text ('' where there is none: not Linux). */
export function readCpuinfo(): string {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * One more meta-step of `cfg` on this thread alone, every wasm kernel timed in CPU time, for the
 * FLOP counts and the convolutions' own speed (the timed steps spread tasks over threads, whose
 * kernels this thread cannot see).
 */
async function profiledStep(cfg: Config, tasks: Episode[]): Promise<{ flops: number; convFlops: number; convCpuMs: number; cpuMs: number }> {
  const learner = new MetaLearner(cfg, new LocalExecutor({ cfg, spec: modelSpecOf(cfg) }));
  try {
    const c0 = process.cpuUsage();
    const table = await profileKernels(() => learner.metaStep(tasks).then(() => undefined));
    const c = process.cpuUsage(c0);
    let flops = 0;
    let convFlops = 0;
    let convCpuMs = 0;
    for (const [name, row] of table) {
      flops += row.flops;
      if ((CONV_KERNELS as readonly string[]).includes(name)) {
        convFlops += row.flops;
        convCpuMs += row.cpuMs;
      }
    }
    return { flops, convFlops, convCpuMs, cpuMs: (c.user + c.system) / 1000 };
  } finally {
    await learner.dispose();
  }
}

/** A task of random images in [0,1] with balanced labels, from a seeded stream. */
export function randomEpisode(cfg: Config, rng: Rng): Episode {
  const { ways, shots, queries, imageSize, channels } = cfg;
  const size = imageSize * imageSize * channels;
  const labels = (per: number) => Int32Array.from({ length: ways * per }, (_, i) => Math.floor(i / per));
  return {
    ways,
    shots,
    queries,
    height: imageSize,
    width: imageSize,
    channels,
    support: rng.uniformArray(ways * shots * size, 0, 1),
    supportLabels: labels(shots),
    query: rng.uniformArray(ways * queries * size, 0, 1),
    queryLabels: labels(queries),
    classes: Array.from({ length: ways }, (_, i) => i),
  };
}

const MB = 1024 * 1024;

/** One decimal, for figures people read. */
const round = (x: number) => Math.round(x * 10) / 10;
/** Three significant digits, for rates and counts that span orders of magnitude. */
const sig3 = (x: number) => Number(x.toPrecision(3));

interface Versions {
  robustMeta: string;
  tfjs: string;
  node: string;
}

/** What every benchmark result says about the memory and the software and machine it ran on. */
function environment(): { rss_mb: number; peak_rss_mb: number; versions: Versions; cpus: number } {
  return {
    rss_mb: round(process.memoryUsage().rss / MB),
    peak_rss_mb: round((process.resourceUsage().maxRSS * 1024) / MB),
    versions: { robustMeta: packageVersion(), tfjs: tf.version_core, node: process.versions.node },
    cpus: os.cpus().length,
  };
}

/**
 * Runs 1 + steps meta-steps of `partial` (over the defaults, with steps defaulting to
 * BENCH_DEFAULT_STEPS) and reports the timing of all but the first.
 */
export async function runBench(partial: Partial<Config>, onStep?: (done: number, total: number, ms: number) => void): Promise<BenchResult> {
  const cfg = resolveConfig({ steps: BENCH_DEFAULT_STEPS, ...partial }, 'bench');
  const backend = await initBackend(cfg.backend);
  const learner = new MetaLearner(cfg);
  const rng = new Rng([cfg.seed, 0xbe4c]);
  const batch = () => Array.from({ length: cfg.metaBatch }, () => randomEpisode(cfg, rng));
  const times: number[] = [];
  let warmup = 0;
  let before = 0;
  let after = 0;
  let rssStep2 = 0;
  try {
    for (let i = 0; i <= cfg.steps; i++) {
      const tasks = batch();
      if (i === 1) before = tf.memory().numTensors;
      const t0 = performance.now();
      await learner.metaStep(tasks);
      const ms = performance.now() - t0;
      if (i === 0) warmup = ms;
      else times.push(ms);
      if (i === 1) rssStep2 = process.memoryUsage().rss;
      onStep?.(i, cfg.steps, ms);
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    after = tf.memory().numTensors;
    await learner.dispose();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const msPerStep = times.reduce((a, b) => a + b, 0) / times.length;
  let flops: StepFlops | undefined;
  if (backend.name === 'wasm') {
    const p = await profiledStep(cfg, batch());
    flops = {
      step_gflop: sig3(p.flops / 1e9),
      conv_gflop: sig3(p.convFlops / 1e9),
      conv_gflops: sig3(p.convFlops / p.convCpuMs / 1e6),
      step_gflops: sig3(p.flops / msPerStep / 1e6),
      conv_cpu_share: sig3(p.convCpuMs / p.cpuMs),
      peak: withMeasuredPeak(peakEstimate(backend.kernels), backend.kernels),
    };
  }
  return {
    ms_per_step: round(msPerStep),
    ms_min: round(sorted[0]),
    ms_median: round(sorted[Math.floor(sorted.length / 2)]),
    ms_max: round(sorted[sorted.length - 1]),
    warmup_ms: round(warmup),
    steps: times.length,
    backend: backend.name,
    ...(backend.adapter ? { adapter: adapterLabel(backend.adapter) } : {}),
    ...(backend.simd !== undefined ? { simd: backend.simd, threads: backend.threads } : {}),
    ...(backend.kernels ? { kernels: backend.kernels } : {}),
    ...(flops ? { flops } : {}),
    task_threads: threadCount(cfg, backend.name),
    task_pieces: piecesPerTask(cfg, threadCount(cfg, backend.name)),
    num_tensors_before: before,
    num_tensors_after: after,
    rss_mb_step2: round(rssStep2 / MB),
    method: cfg.method,
    setting: {
      ...taskSetting(cfg),
      metaBatch: cfg.metaBatch,
      innerSteps: cfg.innerSteps,
      attackSteps: cfg.attackSteps,
      order: cfg.order,
    },
    ...environment(),
  };
}

// ---------------------------------------------------------------------------------------------
// Evaluation episodes (bench --eval)

/** Episodes timed by `bench --eval` when --episodes is not given. */
export const BENCH_DEFAULT_EPISODES = 100;

export interface EvalBenchResult {
  /** Wall time of the whole evaluation divided by the episodes (thread start-up included). */
  ms_per_episode: number;
  /** CPU time of the process (every thread) per episode. */
  cpu_ms_per_episode: number;
  wall_s: number;
  episodes: number;
  backend: string;
  /** As in BenchResult. */
  kernels?: KernelPath;
  /** webgpu: the adapter, in one line. */
  adapter?: string;
  /** Threads sharing the episodes (1: all on the main thread). */
  eval_threads: number;
  rss_mb: number;
  peak_rss_mb: number;
  setting: Pick<Config, 'imageSize' | 'channels' | 'backbone' | 'width' | 'ways' | 'shots' | 'queries' | 'innerStepsTest'> & {
    attackSteps: number;
    eps: number;
    /** Radii of the robustness curve also attacked (bench --eval --curve), else []. */
    curve: number[];
  };
  versions: Versions;
  cpus: number;
}

/** A dataset of random images: `classes` classes of `perClass` images each, all in the test split. */
export function randomDataset(cfg: Config, classes: number, perClass: number, rng: Rng): Dataset {
  const { imageSize, channels } = cfg;
  const n = classes * perClass;
  return {
    name: 'random',
    source: '(random images)',
    data: {
      pixels: Uint8Array.from(rng.uniformArray(n * imageSize * imageSize * channels, 0, 256), Math.floor),
      labels: Int32Array.from({ length: n }, (_, i) => Math.floor(i / perClass)),
      height: imageSize,
      width: imageSize,
      channels,
      classes: Array.from({ length: classes }, (_, i) => `c${i}`),
    },
    splits: { train: [], val: [], test: Array.from({ length: classes }, (_, i) => i) },
    splitOrigin: 'seeded',
  };
}

/** The model and task a bench result is for (both kinds of bench report it). */
function taskSetting(cfg: Config) {
  return { imageSize: cfg.imageSize, channels: cfg.channels, backbone: cfg.backbone, width: cfg.width, ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
}

/**
 * Times the evaluation protocol of docs/method.md on random images with a freshly initialised
 * model: per episode, innerStepsTest SGD steps on the clean support set, the clean query, and
 * PGD-20 (L-inf, 8/255, random start) on the query, over the evaluation's threads. No curve and
 * no strong attack, so that one episode is the unit the PyTorch reference times too; `withCurve`
 * adds the default robustness curve (PGD-20 at 1, 2, 4, 8 and 16/255), as a default `eval` runs.
 */
export async function runEvalBench(
  partial: Partial<Config>,
  episodes = BENCH_DEFAULT_EPISODES,
  onProgress?: (done: number, total: number, etaSeconds: number) => void,
  withCurve = false,
): Promise<EvalBenchResult> {
  const cfg = resolveConfig(partial, 'bench');
  const backend = await initBackend(cfg.backend);
  const rng = new Rng([cfg.seed, 0xe7a1]);
  const data = randomDataset(cfg, Math.max(2 * cfg.ways, 10), cfg.shots + cfg.queries, rng);
  const params = initModel(modelSpecOf(cfg), new Rng([cfg.seed, 0x1a17]));
  const threads = cfg.workers > 0 ? cfg.workers : 'auto';
  const curve = DEFAULT_CURVE_255.map((e) => e / 255);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    await evaluate(
      [{ name: cfg.method, cfg, params }],
      data,
      {
        episodes,
        ways: cfg.ways,
        shots: cfg.shots,
        queries: cfg.queries,
        seed: cfg.seed,
        head: 'finetune',
        curve: withCurve ? curve : [],
        strongAttack: false,
        threads,
        attack: { eps: DEFAULT_EPS, steps: DEFAULT_ATTACK_STEPS },
      },
      (p) => onProgress?.(p.episodesDone, p.episodes, p.etaSeconds),
    );
  } finally {
    disposeParams(params);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    ms_per_episode: round(wall / episodes),
    cpu_ms_per_episode: round((cpu.user + cpu.system) / 1000 / episodes),
    wall_s: round(wall / 1000),
    episodes,
    backend: backend.name,
    ...(backend.kernels ? { kernels: backend.kernels } : {}),
    ...(backend.adapter ? { adapter: adapterLabel(backend.adapter) } : {}),
    eval_threads: evalThreadCount(threads, episodes, backend.name),
    setting: {
      ...taskSetting(cfg),
      innerStepsTest: cfg.innerStepsTest,
      attackSteps: DEFAULT_ATTACK_STEPS,
      eps: DEFAULT_EPS,
      curve: withCurve ? curve : [],
    },
    ...environment(),
  };
}
