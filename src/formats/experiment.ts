// The experiment spec (experiments/*.json), read by `robust-meta experiment`: which methods to
// train on which data with which seeds, the seed method's hyper-parameter to choose on
// validation classes, and how to evaluate. Published as schemas/experiment.schema.json.
// Dependency-free (no tfjs, no node imports).
import { Type, type Static, type TArray, type TInteger } from '@sinclair/typebox';
import { METHODS, type MethodName } from '../core/config';
import { ConfigSchema } from './config';
import { EvalResultFileSchema } from './evalResult';
import { SlurmOptionsSchema } from './slurm';

const Method = Type.Union(METHODS.map((m) => Type.Literal(m)));
const Count = (description: string) => Type.Integer({ minimum: 1, description });

export const ExperimentSpecSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    $comment: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[\\w.-]+$', description: 'A word (letters, digits, . _ -): names the experiment folder.' }),
    source: Type.String({ description: "Source domain (image or IDX folder, relative to the spec file); 'bundled:<name>' for data shipped with the package." }),
    unseen: Type.Union(
      [
        Type.String({ description: 'One unseen domain, given like source; its classes are split by unseenSplit.' }),
        Type.Array(
          Type.Object(
            {
              name: Type.String({ pattern: '^[\\w.]+$', description: "A word, used in the settings' labels (unseen-<name>-<k>shot)." }),
              path: Type.String({ description: 'The dataset, given like source.' }),
              val: Type.Integer({ minimum: 0, description: 'Classes for validation (used only when the validation is on the unseen domain).' }),
              test: Count('Classes for testing.'),
            },
            { additionalProperties: false },
          ),
          { minItems: 1, description: 'Several unseen domains, each with its own seeded class split.' },
        ),
      ],
      { description: 'The unseen domain(s).' },
    ),
    methods: Type.Array(Method, { minItems: 1, description: 'Methods to train and compare.' }),
    seeds: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, description: 'Seeds of the runs of every method.' }),
    methodSeeds: Type.Optional(
      Type.Partial(
        Type.Object(
          Object.fromEntries(METHODS.map((m) => [m, Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 })])) as Record<MethodName, TArray<TInteger>>,
          { additionalProperties: false },
        ),
        {
          description: "Seeds of the methods that train on other seeds than 'seeds' (fewer for the cheaper baselines).",
        },
      ),
    ),
    train: Type.Partial(ConfigSchema, { description: 'Config keys of every training run (the method and seed come from methods and seeds).' }),
    validation: Type.Object(
      {
        method: Method,
        key: Type.KeyOf(ConfigSchema, { description: 'The config key to choose.' }),
        values: Type.Array(Type.Number(), { minItems: 1 }),
        episodes: Count('Episodes of the validation evaluation.'),
        on: Type.Optional(
          Type.Union([Type.Literal('unseen'), Type.Literal('source')], {
            description:
              "Validation classes of the (first) unseen domain (default), or of the source domain's val split (no unseen image is then used for a choice).",
          }),
        ),
      },
      { description: "The seed method's hyper-parameter, chosen on validation classes." },
    ),
    verdict: Type.Optional(
      Type.Object(
        {
          rule: Type.String({ description: 'The pre-registered rule, printed in the report.' }),
          cleanMargin: Type.Number({ minimum: 0, description: 'Clean accuracy (points) mavrl may lose to aq and still win.' }),
        },
        { additionalProperties: false, description: 'The pre-registered verdict rule. Default: the rule of the first experiment.' },
      ),
    ),
    eval: Type.Object({
      shots: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }),
      sourceShots: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1 }), { description: 'Shot counts evaluated on the held-out source classes (default: shots); [] for none.' }),
      ),
      episodes: Count('Episodes of each evaluation.'),
      queries: Count('Query images per class.'),
      attackSteps: Count('PGD steps of the evaluation attack.'),
      curve255: Type.Array(Type.Number({ minimum: 0 }), { description: 'Attack radii of the robustness curve, in 1/255 units.' }),
      strong: Type.Object({
        steps: Count('PGD steps of the strong attack.'),
        restarts: Type.Integer({ minimum: 0 }),
        episodes: Count('Episodes of the strong attack.'),
      }),
    }),
    /** Classes of the unseen domain for validation and for testing (a seeded split). */
    unseenSplit: Type.Optional(Type.Object({ val: Count('Validation classes of the unseen domain.'), test: Count('Test classes of the unseen domain.') })),
    parallel: Count('Jobs at a time (one core each).'),
    slurm: Type.Optional(SlurmOptionsSchema),
  },
  { additionalProperties: false, title: 'robust-meta experiment spec' },
);
export type ExperimentSpec = Static<typeof ExperimentSpecSchema>;

/** A run's identity in an experiment: method, seed, and the validated value when it differs. */
export const RunKeySchema = Type.Object({
  method: Method,
  seed: Type.Integer({ minimum: 0 }),
  /** The validation key's value, for the seed method's validation runs. */
  value: Type.Optional(Type.Number()),
});
export type RunKey = Static<typeof RunKeySchema>;

/** `<experiment>/runs/<name>.done.json`: a finished training job, reused by the next invocation. */
export const TrainDoneSchema = Type.Object({ runDir: Type.String(), checkpoint: Type.String(), seconds: Type.Number() });
export type TrainDone = Static<typeof TrainDoneSchema>;

/** `<experiment>/outcome.json`: everything the results report is written from. */
export const ExperimentOutcomeSchema = Type.Object({
  spec: ExperimentSpecSchema,
  source: Type.String(),
  /** The unseen domains' dataset paths, in the spec's order. */
  unseen: Type.Array(Type.String()),
  chosen: Type.Object({ key: Type.String(), value: Type.Number(), validation: EvalResultFileSchema }),
  runs: Type.Array(Type.Composite([RunKeySchema, TrainDoneSchema, Type.Object({ name: Type.String() })])),
  /** By setting label: 'unseen-1shot', 'source-5shot', 'unseen-1shot-strong', ... */
  results: Type.Record(Type.String(), EvalResultFileSchema),
  wallSeconds: Type.Number(),
});
export type ExperimentOutcome = Static<typeof ExperimentOutcomeSchema>;
