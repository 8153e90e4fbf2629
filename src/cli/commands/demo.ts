// robust-meta demo: the method's claim at a small scale. Meta-trains mavrl and aq with the same
// budget on the bundled characters (real scripts), evaluates both on the bundled icons and
// textures (domains never seen in training: clean, robust and the robustness curve), prints the
// comparisons and writes a self-contained HTML report. The default budget fits in under two
// minutes on 2 cores, build included.
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../core/backend';
import { Config, MethodName, METHODS, resolveConfig } from '../../core/config';
import { meaningful } from '../../core/eval/diagnostics';
import { adaptationSummary, formatAdaptation } from '../../core/stepMetrics';
import { EvalResultFile, PROTOTYPE_SUFFIX } from '../../core/evalResult';
import { EvalResultFileSchema } from '../../formats/evalResult';
import { parseJson } from '../../formats/validate';
import { UserError } from '../../core/errors';
import { startTraining, WorkerExit, WorkerHandle } from '../../runner/client';
import { jobError, runCliJob } from '../jobs';
import { bundledDataPath } from '../../runner/packageInfo';
import { EXIT_CODES } from '../../runner/protocol';
import { readMetrics, RUN_FILES, runIdFor, writeJsonAtomic } from '../../runner/runStore';
import { CONFIG_OPTIONS, configFromArgs, ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION, JSON_OPTION, RUNS_DIR_OPTION, runsDirOf } from '../command';
import { formatDuration } from '../../formats/display';
import { Progress } from '../output';
import { renderReport, ReportDomain, ReportRun } from '../report';
import { formatComparison, renderEvalTable } from '../table';

/** The demo's model and budget: small enough for 2 cores, the same for every method. */
export const DEMO_CONFIG: Partial<Config> = {
  imageSize: 16,
  channels: 1,
  width: 24,
  ways: 5,
  shots: 1,
  queries: 5,
  metaBatch: 2,
  attackSteps: 3,
  steps: 300,
  checkpointEvery: 100,
};
export const DEMO_METHODS: MethodName[] = ['mavrl', 'aq'];
/** The bundled data the demo meta-trains on (its train/ classes). */
export const DEMO_SOURCE = 'characters-small';
/** The bundled unseen domains the demo evaluates on, every class of each a test class. */
export const DEMO_UNSEEN_DOMAINS = ['icons-small', 'textures-small'];
export const DEMO_EPISODES = 24;
export const DEMO_EVAL_QUERIES = 5;

function parseMethods(v: unknown): MethodName[] {
  if (v === undefined) return DEMO_METHODS;
  const list = String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.filter((m) => !(METHODS as readonly string[]).includes(m));
  if (bad.length || !list.length) throw new UsageError(`--methods ${JSON.stringify(v)}: give a comma-separated list of ${METHODS.join(', ')}`);
  return [...new Set(list)] as MethodName[];
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`demo takes no positional arguments, got ${args.positionals.join(' ')}`);
  const t0 = Date.now();
  const json = args.options.json === true;
  const methods = parseMethods(args.options.methods);
  const episodes = args.options.episodes === undefined ? DEMO_EPISODES : Number(args.options.episodes);
  if (!Number.isInteger(episodes) || episodes < 1) throw new UsageError(`--episodes ${args.options.episodes}: must be a whole number >= 1`);
  const { config: base, explicit } = configFromArgs(args, DEMO_CONFIG);
  // Each method gets its own defaults (inner loop, head) under the demo's budget and the flags.
  const source = explicit.data ? base.data : bundledDataPath(DEMO_SOURCE);
  const sourceName = explicit.data ? base.data : `the bundled ${DEMO_SOURCE}`;
  const configOf = (method: MethodName): Config => resolveConfig({ ...DEMO_CONFIG, ...explicit, data: source, method }, 'command line');
  const runsDir = runsDirOf(args);
  const domains = DEMO_UNSEEN_DOMAINS.map((name) => {
    const dataPath = bundledDataPath(name);
    return { name, dataPath, classes: fs.readdirSync(dataPath, { withFileTypes: true }).filter((e) => e.isDirectory()).length };
  });
  const backend = await initBackend(base.backend);
  const outDir = args.options.out ? path.dirname(path.resolve(String(args.options.out))) : path.join(path.resolve(runsDir), runIdFor('demo'));
  const reportFile = args.options.out ? path.resolve(String(args.options.out)) : path.join(outDir, 'report.html');
  fs.mkdirSync(outDir, { recursive: true });

  const log = (line: string) => process.stderr.write(line + '\n');
  log(
    `demo: ${methods.join(' vs ')}, ${base.steps} meta-steps each on ${sourceName} (${base.imageSize}x${base.imageSize}x${base.channels}, ${base.backbone} width ${base.width}, ${base.ways}-way ${base.shots}-shot), then ${episodes} episodes on each of ${DEMO_UNSEEN_DOMAINS.join(', ')}; backend ${backend.name}`,
  );

  // One worker per method, in parallel: wasm runs on one thread, so two methods use two cores.
  const handles: WorkerHandle[] = [];
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT_CODES.interrupted);
    interrupted = true;
    handles.forEach((h) => h.cancel());
    log('stopping after a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    const progress = new Progress(process.stderr, 'demo step');
    const runs = await trainAll(methods, configOf, runsDir, handles, progress);
    progress.done();
    for (const r of runs) {
      log(`${r.method}: ${r.state} at step ${r.metrics.length} in ${r.seconds.toFixed(0)}s -> ${r.runDir}`);
      log(`  training, last 50 steps: ${formatAdaptation(adaptationSummary(r.metrics))}`);
    }
    if (interrupted) return EXIT_CODES.interrupted;

    // Per domain, one evaluation of all runs on the same episodes; evaluate() spreads the episodes over the cores.
    const evaluated: (ReportDomain & { name: string; resultFile: string })[] = [];
    for (const domain of domains) {
      const resultFile = path.join(outDir, `${domain.name}.json`);
      const evalProgress = new Progress(process.stderr, `eval ${domain.name} episode`);
      const { result: evalJob, signalled } = await runCliJob(
        {
          kind: 'eval',
          args: {
            checkpoints: runs.map((r) => r.runDir),
            data: domain.dataPath,
            out: resultFile,
            // An unseen domain has no training classes: every class is a test class.
            load: { splitCounts: { train: 0, val: 0, test: domain.classes } },
            options: { episodes, queries: DEMO_EVAL_QUERIES, backend: base.backend },
          },
        },
        {
          onEvent: (m) => {
            if (m.type === 'run/progress') evalProgress.update({ step: m.step, total: m.totalSteps, etaSeconds: m.etaSeconds });
            else if (m.type === 'log' && m.level === 'warn') evalProgress.log(`warning: ${m.message}`);
          },
          onQuit: () => evalProgress.done(),
        },
      );
      if (signalled || interrupted) return EXIT_CODES.interrupted;
      if (evalJob.state !== 'done' || !evalJob.resultPath) throw jobError(evalJob);
      const result = parseJson(EvalResultFileSchema, fs.readFileSync(evalJob.resultPath, 'utf8'), evalJob.resultPath);
      evalProgress.done();
      // Each run also gets the comparison among its results, for `show` and the extension.
      for (const r of runs) {
        const dir = path.join(r.runDir, RUN_FILES.results);
        fs.mkdirSync(dir, { recursive: true });
        writeJsonAtomic(path.join(dir, `demo-${domain.name}.json`), rebase(result, outDir, dir));
      }
      const samplePngs = result.models.map((m) =>
        (m.samples ?? []).map((s) => ({
          clean: fs.readFileSync(path.join(outDir, s.clean)),
          perturbation: fs.readFileSync(path.join(outDir, s.perturbation)),
          adversarial: fs.readFileSync(path.join(outDir, s.adversarial)),
        })),
      );
      evaluated.push({ name: domain.name, resultFile, result, samplePngs, notes: headline(result) });
    }
    const seconds = (Date.now() - t0) / 1000;
    const html = renderReport({
      title: `robust-meta demo: ${methods.join(' vs ')} on unseen domains`,
      createdAt: new Date().toISOString(),
      setting: [
        `Meta-trained on ${sourceName} (train classes), ${base.steps} meta-steps each, meta-batch ${base.metaBatch}, ${base.ways}-way ${base.shots}-shot ${base.queries} queries, ${base.imageSize}x${base.imageSize}x${base.channels}, ${base.backbone} width ${base.width}, seed ${base.seed}.`,
        `Training attack: PGD-${base.attackSteps} at eps ${(base.eps * 255).toFixed(0)}/255; outer Adam ${base.outerLr}. Inner loops: ${methods.map((m) => innerLoopText(configOf(m))).join('; ')}.`,
        `Backend ${backend.name}${backend.simd !== undefined ? ` (SIMD ${backend.simd ? 'on' : 'off'}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'} per process${backend.kernels ? `, kernels ${backend.kernels}` : ''})` : ''}; total wall time ${formatDuration(seconds)}.`,
      ],
      runs,
      domains: evaluated,
    });
    fs.writeFileSync(reportFile, html);

    if (json) {
      process.stdout.write(
        JSON.stringify({
          report: reportFile,
          seconds,
          runs: runs.map((r) => ({ method: r.method, runDir: r.runDir, steps: r.metrics.length, seconds: r.seconds, training: adaptationSummary(r.metrics) })),
          domains: evaluated.map(({ name, resultFile, result }) => ({
            name,
            result: resultFile,
            models: result.models.map((m) => ({
              method: m.method,
              head: m.head,
              clean: m.clean,
              robust: m.robust,
              curve: m.curve,
              diagnostics: m.diagnostics,
            })),
            comparisons: result.comparisons ?? [],
          })),
        }) + '\n',
      );
    } else {
      process.stdout.write(
        [
          ...evaluated.flatMap((d) => ['', `Unseen domain: ${renderEvalTable(d.result)}`, ...d.notes]),
          '',
          `report: ${reportFile}`,
          `wall time: ${formatDuration(seconds)}`,
          '',
        ].join('\n'),
      );
    }
    return interrupted ? EXIT_CODES.interrupted : EXIT_CODES.ok;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

interface DemoRun extends ReportRun {
  state: string;
}

function fail(what: string, exit: WorkerExit): never {
  throw new UserError(`${what}: ${exit.message ?? `the worker ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}`}`);
}

/** Trains every method in its own worker, at the same time; progress shows them side by side. */
async function trainAll(
  methods: MethodName[],
  configOf: (m: MethodName) => Config,
  runsDir: string,
  handles: WorkerHandle[],
  progress: Progress,
): Promise<DemoRun[]> {
  const base = configOf(methods[0]);
  const steps = new Map<MethodName, number>(methods.map((m) => [m, 0]));
  const eta = new Map<MethodName, number | null>();
  const t0 = Date.now();
  const ended = new Map<MethodName, number>();
  const started = methods.map((method) => {
    const { runDir, handle } = startTraining(runsDir, configOf(method), {
      exit: () => ended.set(method, Date.now()),
      'run/progress': (p) => {
        steps.set(method, p.step);
        eta.set(method, p.etaSeconds);
        const fields: Record<string, string> = {};
        for (const m of methods) fields[m] = `${steps.get(m)}/${base.steps}`;
        const etas = [...eta.values()].filter((e): e is number => e !== null);
        progress.update({
          step: [...steps.values()].reduce((a, b) => a + b, 0),
          total: base.steps * methods.length,
          fields,
          etaSeconds: etas.length ? Math.max(...etas) : null,
        });
      },
      log: (m) => {
        if (m.level === 'warn') progress.log(`${method}: warning: ${m.message}`);
      },
    });
    handles.push(handle);
    return { method, runDir, handle };
  });
  const out: DemoRun[] = [];
  for (const s of started) {
    const exit = await s.handle.done;
    if (exit.state === 'failed') fail(`training ${s.method} failed`, exit);
    out.push({
      method: s.method,
      runDir: s.runDir,
      metrics: readMetrics(s.runDir),
      seconds: ((ended.get(s.method) ?? Date.now()) - t0) / 1000,
      state: exit.state,
    });
  }
  return out;
}

/** The result with sample paths made relative to another folder. */
function rebase(result: EvalResultFile, from: string, to: string): EvalResultFile {
  const re = (p: string) => path.relative(to, path.join(from, p)).split(path.sep).join('/');
  return {
    ...result,
    models: result.models.map((m) => ({
      ...m,
      samples: m.samples?.map((s) => ({ ...s, clean: re(s.clean), perturbation: re(s.perturbation), adversarial: re(s.adversarial) })),
    })),
  };
}

/** A method's inner loop in words: 'mavrl 1 step (10 at test), lr 0.4, encoder only'. */
function innerLoopText(c: Config): string {
  return `${c.method} ${c.innerSteps} step${c.innerSteps === 1 ? '' : 's'} (${c.innerStepsTest} at test), lr ${c.innerLr}, ${c.innerUpdate === 'body' ? 'encoder only' : 'all parameters'}`;
}

/**
 * Whether the paper's claim shows at this budget, said plainly: the paired robust difference of
 * mavrl and aq (own heads) on the same episodes, counted only when both models mean something.
 */
function headline(result: EvalResultFile): string[] {
  const own = (method: string) => result.models.find((m) => m.method === method && !m.model.endsWith(PROTOTYPE_SUFFIX));
  const mavrl = own('mavrl');
  const aq = own('aq');
  if (!mavrl || !aq) return [];
  const useless = [mavrl, aq].filter((m) => !meaningful(m.diagnostics));
  if (useless.length)
    return [
      `no verdict: ${useless.map((m) => m.method).join(' and ')} at chance or collapsed on this domain, so robust accuracy says nothing about robustness.`,
    ];
  const c = result.comparisons?.find((x) => x.metric === 'robust' && x.a === mavrl.model && x.b === aq.model);
  if (!c) return [];
  return [`${formatComparison(c)}. The paper's >10-point gap is for full-scale training (CIFAR-FS, Conv4 width 64, tens of thousands of steps).`];
}

export const demoCommand: Command = {
  name: 'demo',
  summary: `Meta-train mavrl and aq on the bundled ${DEMO_SOURCE}, compare them on the unseen ${DEMO_UNSEEN_DOMAINS.join(' and ')}, write an HTML report.`,
  usage: '[--steps n] [--episodes n] [--methods mavrl,aq] [--out report.html] [--runs-dir dir] [--json] [--<config-key> value ...]',
  options: [
    HELP_OPTION,
    JSON_OPTION,
    RUNS_DIR_OPTION,
    { flag: 'methods', type: 'string', placeholder: 'list', default: DEMO_METHODS.join(','), description: 'Methods to compare, comma-separated.' },
    { flag: 'episodes', type: 'number', placeholder: 'n', default: DEMO_EPISODES, description: 'Evaluation episodes on each unseen domain.' },
    { flag: 'out', type: 'string', placeholder: 'file.html', description: 'Where the report goes (default <runs-dir>/<time>-demo/report.html).' },
    ...CONFIG_OPTIONS.filter((o) => o.flag !== 'method').map((o) =>
      o.flag in DEMO_CONFIG || DEMO_CONFIG[o.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Config] !== undefined
        ? { ...o, default: DEMO_CONFIG[o.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Config] as number }
        : o,
    ),
  ],
  details: 'The budget is per method; the same config (except the method) is used for every method.',
  run,
};
