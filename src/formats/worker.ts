// The worker protocol, declared once: the jobs a worker runs (a job file's contents), what a
// parent sends it, and the events it sends back. The same events are the lines of the CLI's
// `--json` stream, so whoever reads one reads the other (the extension over IPC, a script or a
// remote executor over stdout). Dependency-free apart from TypeBox: no tfjs, no node imports.
//
// Payloads whose formats are declared elsewhere (the config, a metrics line, a sample set, a
// bench result) are checked here as objects only, and typed through type-only imports that
// vanish at run time; their own declarations validate them where they are read from files.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Config } from '../core/config';
import type { BenchResult, EvalBenchResult } from '../runner/bench';
import type { MetricLine, SampleSet } from '../runner/runFormat';

export const PROTOCOL_VERSION = 1;

/** How a worker (and the CLI) exits: 128 + the signal number after SIGINT (130) or SIGTERM (143), as shells report it. */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** An object whose own format is declared and validated elsewhere. */
const Payload = <T>(description: string) => Type.Unsafe<T>(Type.Object({}, { description }));

const Options = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

export const RunStateSchema = Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed'), Type.Literal('stopped')]);

/**
 * train: a fresh run into runDir (absent or empty) with `config`, or with resume: true the run in
 * runDir from its newest checkpoint, its config changed only by `overrides` (steps,
 * checkpointEvery, backend, workers).
 */
export const TrainJobSchema = Type.Object({
  kind: Type.Literal('train'),
  runDir: Type.String(),
  config: Type.Optional(Payload<Config>('a resolved config (config.json of a run)')),
  resume: Type.Boolean(),
  overrides: Type.Optional(Payload<Partial<Config>>('config keys that may change on resume')),
  /** Folder for the decoded-image cache. */
  cacheDir: Type.Optional(Type.String()),
});

export const EvalJobArgsSchema = Type.Object({
  /** Checkpoint files or run folders (the newest checkpoint is taken). */
  checkpoints: Type.Array(Type.String()),
  data: Type.String(),
  /** Where the result JSON goes; also where samples are written. */
  out: Type.String(),
  /** The evaluation's options by name: `eval`'s flags in camelCase (runner/evalJob.ts). */
  options: Options,
  /** Names of the models in the result, one per checkpoint (default: method, run and step). */
  names: Type.Optional(Type.Array(Type.String())),
  /** The dataset's class split (default: its folders' or the seeded default). */
  load: Type.Optional(
    Type.Object({
      splitCounts: Type.Optional(Type.Object({ train: Type.Integer({ minimum: 0 }), val: Type.Integer({ minimum: 0 }), test: Type.Integer({ minimum: 0 }) })),
      splitSeed: Type.Optional(Type.Integer()),
    }),
  ),
});

export const EvalJobSchema = Type.Object({ kind: Type.Literal('eval'), args: EvalJobArgsSchema });

/** bench: meta-steps on random data with the config keys in `args`; with `eval`, evaluation episodes instead. */
export const BenchJobSchema = Type.Object({
  kind: Type.Literal('bench'),
  args: Options,
  eval: Type.Optional(Type.Object({ episodes: Type.Integer({ minimum: 1 }) })),
});

/** What a worker is asked to do; a JSON job file holds one. */
export const JobSchema = Type.Union([TrainJobSchema, EvalJobSchema, BenchJobSchema]);

/** Each kind's schema, to check a job against its own kind (a union's errors say only "expected union value"). */
export const JOB_SCHEMAS = { train: TrainJobSchema, eval: EvalJobSchema, bench: BenchJobSchema } as const;
export const JobKindSchema = Type.Object({ kind: Type.Union([Type.Literal('train'), Type.Literal('eval'), Type.Literal('bench')]) });

const V = { v: Type.Literal(PROTOCOL_VERSION) };
const message = <K extends string, P extends Record<string, TSchema>>(type: K, props: P) => Type.Object({ ...V, type: Type.Literal(type), ...props });

/** Parent -> worker. */
export const ParentMessageSchema = Type.Union([
  message('job/start', { job: JobSchema }),
  /** Stop after writing a checkpoint (train) or after the episode (eval). */
  message('job/cancel', {}),
  message('job/pause', {}),
  message('job/resume', {}),
]);

/** Worker -> parent, and the lines of the CLI's --json stream. */
export const WorkerMessageSchema = Type.Union([
  message('worker/ready', { backend: Type.String(), pid: Type.Integer() }),
  message('run/started', {
    runDir: Type.String(),
    step: Type.Integer(),
    totalSteps: Type.Integer(),
    backend: Type.Optional(Type.String()),
    /** The checkpoint a resumed run started from. */
    resumedFrom: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  message('run/progress', {
    step: Type.Number(),
    totalSteps: Type.Number(),
    etaSeconds: Type.Union([Type.Number(), Type.Null()]),
    msPerStep: Type.Number(),
    /** What is counted when not meta-steps: 'episodes', 'warm-up', 'steps'. */
    label: Type.Optional(Type.String()),
    loss: Type.Optional(Type.Number()),
  }),
  message('run/metric', { metric: Payload<MetricLine>('a metrics.jsonl line') }),
  message('run/samples', { samplesDir: Type.String(), samples: Payload<SampleSet>('samples/step-N.json') }),
  message('run/checkpoint', { step: Type.Integer(), path: Type.String() }),
  message('run/result', { path: Type.String() }),
  message('run/paused', { paused: Type.Boolean() }),
  message('bench/result', { result: Payload<BenchResult | EvalBenchResult>('a bench result') }),
  message('log', { level: Type.Union([Type.Literal('info'), Type.Literal('warn')]), message: Type.String() }),
  /** userError: the message is for the user as it stands (no stack). */
  message('error', { message: Type.String(), userError: Type.Boolean(), stack: Type.Optional(Type.String()), exitCode: Type.Optional(Type.Integer()) }),
  /** The job's end; a training job adds where it ended. */
  message('job/done', {
    state: RunStateSchema,
    runDir: Type.Optional(Type.String()),
    step: Type.Optional(Type.Integer()),
    totalSteps: Type.Optional(Type.Integer()),
    checkpoint: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    seconds: Type.Optional(Type.Number()),
  }),
]);

export type Job = Static<typeof JobSchema>;
export type TrainJob = Static<typeof TrainJobSchema>;
export type EvalJobArgs = Static<typeof EvalJobArgsSchema>;
export type ParentMessage = Static<typeof ParentMessageSchema>;
export type WorkerMessage = Static<typeof WorkerMessageSchema>;
export type WorkerEvent<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

const typesOf = (u: { anyOf: TSchema[] }) => u.anyOf.map((s) => (s as unknown as { properties: { type: { const: string } } }).properties.type.const);
export const WORKER_MESSAGE_TYPES = typesOf(WorkerMessageSchema) as readonly WorkerMessage['type'][];
export const PARENT_MESSAGE_TYPES = typesOf(ParentMessageSchema) as readonly ParentMessage['type'][];
