// robust-meta bench: times meta-steps on random data (docs/method.md, "The benchmark step"), as a
// bench job in a worker process.
import { BENCH_DEFAULT_EPISODES, BENCH_DEFAULT_STEPS, BenchResult, EvalBenchResult } from '../../runner/bench';
import { localExecutor } from '../../runner/executor';
import { Job } from '../../runner/protocol';
import { jobError, runCliJob } from '../jobs';
import { CONFIG_OPTIONS, configFromArgs, ParsedArgs, UsageError } from '../args';
import { Command, CONFIG_FILE_OPTION, HELP_OPTION, JSON_OPTION } from '../command';
import { Progress } from '../output';

function describe(r: BenchResult): string {
  const s = r.setting;
  return [
    `${r.method} meta-step, ${s.imageSize}x${s.imageSize}x${s.channels}, ${s.backbone} width ${s.width}, ${s.ways}-way ${s.shots}-shot ${s.queries} queries, meta-batch ${s.metaBatch}, ${s.innerSteps} inner, ${s.attackSteps} attack steps, order ${s.order}`,
    `backend      ${r.backend}${r.adapter ? ` on ${r.adapter}` : ''}${r.simd !== undefined ? ` (simd ${r.simd ? 'on' : 'off'}, threads ${r.threads}${r.kernels ? `, kernels: ${r.kernels}` : ''})` : ''}, ${r.task_threads} task thread${r.task_threads === 1 ? '' : 's'}${r.task_pieces > 1 ? ` (tasks split in ${r.task_pieces} pieces across them)` : ''}`,
    `ms/step      ${r.ms_per_step} (min ${r.ms_min}, median ${r.ms_median}, max ${r.ms_max}; ${r.steps} steps after a ${r.warmup_ms} ms warm-up)`,
    ...(r.flops ? [describeFlops(r.flops)] : []),
    `tensors      ${r.num_tensors_before} before, ${r.num_tensors_after} after${r.num_tensors_after > r.num_tensors_before ? '  <- LEAK' : ''}`,
    `memory       rss ${r.rss_mb_step2} MB after step 2, ${r.rss_mb} MB at the end (${r.steps + 1} steps), peak ${r.peak_rss_mb} MB`,
  ].join('\n');
}

function describeFlops(f: NonNullable<BenchResult['flops']>): string {
  const p = f.peak;
  return [
    `GFLOP/s      step ${f.step_gflops} (${f.step_gflop} GFLOP per step) of a peak of ${p.gflops} (${p.cores} cores x ${p.clock_mhz} MHz x ${p.flops_per_cycle} flop/cycle, an estimate)`,
    `             convolutions ${f.conv_gflops} per core of ${p.gflops_per_core} (${Math.round(f.conv_cpu_share * 100)}% of a step's CPU time, profiled on one thread)`,
    ...(p.measured_gflops_per_core ? [`             measured peak ${p.measured_gflops_per_core} per core (fused multiply-adds in registers, no memory)`] : []),
  ].join('\n');
}

function describeEval(r: EvalBenchResult): string {
  const s = r.setting;
  return [
    `evaluation episodes, ${s.imageSize}x${s.imageSize}x${s.channels}, ${s.backbone} width ${s.width}, ${s.ways}-way ${s.shots}-shot ${s.queries} queries, ${s.innerStepsTest} inner steps, PGD-${s.attackSteps} at ${
      s.curve.length
        ? s.curve
            .filter((e) => e > 0)
            .map((e) => Math.round(e * 255))
            .join(', ')
        : Math.round(s.eps * 255)
    }/255`,
    `backend      ${r.backend}${r.adapter ? ` on ${r.adapter}` : ''}${r.kernels ? ` (kernels: ${r.kernels})` : ''}, ${r.eval_threads} eval thread${r.eval_threads === 1 ? '' : 's'}`,
    `ms/episode   ${r.ms_per_episode} wall, ${r.cpu_ms_per_episode} cpu (${r.episodes} episodes in ${r.wall_s} s)`,
    `memory       rss ${r.rss_mb} MB, peak ${r.peak_rss_mb} MB`,
  ].join('\n');
}

/** Runs a bench job in a worker process of its own (its memory figures are the job's alone), with progress on stderr. */
async function benchJob(job: Job, json: boolean): Promise<BenchResult | EvalBenchResult> {
  const progress = new Progress(process.stderr);
  const { result } = await runCliJob(job, {
    executor: localExecutor(),
    quitAtOnce: true,
    onQuit: () => progress.done(),
    onEvent: (m) => {
      if (json || m.type !== 'run/progress') return;
      progress.update({
        step: m.step,
        total: m.totalSteps,
        etaSeconds: m.etaSeconds,
        ...(m.label === 'episodes' ? {} : { fields: { ms: m.msPerStep.toFixed(0) } }),
      });
    },
  });
  progress.done();
  if (result.state !== 'done' || !result.bench) throw jobError(result);
  return result.bench;
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`bench takes no positional arguments, got ${args.positionals.join(' ')}`);
  const json = args.options.json === true;
  if (args.options.eval === true) {
    const { config } = configFromArgs(args);
    const episodes = args.options.episodes === undefined ? BENCH_DEFAULT_EPISODES : Number(args.options.episodes);
    if (!Number.isInteger(episodes) || episodes < 1) throw new UsageError(`--episodes must be a whole number >= 1, got ${args.options.episodes}`);
    const result = (await benchJob({ kind: 'bench', args: config, eval: { episodes, curve: args.options.curve === true } }, json)) as EvalBenchResult;
    process.stdout.write(json ? JSON.stringify(result) + '\n' : describeEval(result) + '\n');
    return 0;
  }
  if (args.options.episodes !== undefined) throw new UsageError('--episodes goes with --eval (meta-steps are counted by --steps)');
  if (args.options.curve !== undefined) throw new UsageError('--curve goes with --eval');
  const { config } = configFromArgs(args, { steps: BENCH_DEFAULT_STEPS });
  const result = (await benchJob({ kind: 'bench', args: config }, json)) as BenchResult;
  process.stdout.write(json ? JSON.stringify(result) + '\n' : describe(result) + '\n');
  return result.num_tensors_after > result.num_tensors_before ? 1 : 0;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Time meta-steps on random data (default: the benchmark step of docs/method.md).',
  usage:
    '[--method m] [--image-size n] [--channels n] [--width n] [--ways n] [--shots n] [--queries n] [--meta-batch n] [--inner-steps n] [--attack-steps n] [--steps n] [--backend b] [--json] | --eval [--episodes n] [--curve] [model flags]',
  options: [
    HELP_OPTION,
    JSON_OPTION,
    CONFIG_FILE_OPTION,
    {
      flag: 'eval',
      type: 'boolean',
      description:
        'Time evaluation episodes instead (docs/method.md protocol: innerStepsTest SGD steps on the support set, then PGD-20 at 8/255 on the query), over the evaluation threads.',
    },
    { flag: 'episodes', type: 'number', placeholder: 'n', default: BENCH_DEFAULT_EPISODES, description: 'With --eval: evaluation episodes to time.' },
    { flag: 'curve', type: 'boolean', description: "With --eval: also the default robustness curve (PGD-20 at 1, 2, 4, 8, 16/255), as a default 'eval' runs." },
    ...CONFIG_OPTIONS.map((o) => (o.flag === 'steps' ? { ...o, default: BENCH_DEFAULT_STEPS, description: 'Timed meta-steps (after one warm-up step).' } : o)),
  ],
  details: [
    'Exit code 1 when the tensor count grows across the timed steps (a leak).',
    'The PyTorch reference of the same work: /usr/bin/python3 bench/pytorch_step.py [--eval] (README, "Performance").',
  ].join('\n'),
  run,
};
