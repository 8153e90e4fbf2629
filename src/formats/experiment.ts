// The experiment spec (experiments/*.json), read by `robust-meta experiment`: which methods to
// train on which data with which seeds, the seed method's hyper-parameter to choose on
// validation classes, and how to evaluate. Published as schemas/experiment.schema.json.
// Dependency-free (no tfjs, no node imports).
import { Type, type Static } from '@sinclair/typebox';
import { METHODS } from '../core/config';
import { ConfigSchema } from './config';

const Method = Type.Union(METHODS.map((m) => Type.Literal(m)));
const Count = (description: string) => Type.Integer({ minimum: 1, description });

export const ExperimentSpecSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    $comment: Type.Optional(Type.String()),
    name: Type.String({ pattern: '^[\\w.-]+$', description: 'A word (letters, digits, . _ -): names the experiment folder.' }),
    source: Type.String({ description: "Source domain (image or IDX folder, relative to the spec file); 'bundled:<name>' for data shipped with the package." }),
    unseen: Type.String({ description: 'The unseen domain, given like source.' }),
    methods: Type.Array(Method, { minItems: 1, description: 'Methods to train and compare.' }),
    seeds: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, description: 'Seeds of the runs of every method.' }),
    train: Type.Partial(ConfigSchema, { description: 'Config keys of every training run (the method and seed come from methods and seeds).' }),
    validation: Type.Object(
      {
        method: Method,
        key: Type.KeyOf(ConfigSchema, { description: 'The config key to choose.' }),
        values: Type.Array(Type.Number(), { minItems: 1 }),
        episodes: Count('Episodes of the validation evaluation.'),
      },
      { description: "The seed method's hyper-parameter, chosen on the unseen domain's validation classes." },
    ),
    eval: Type.Object({
      shots: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 }),
      episodes: Count('Episodes of each evaluation.'),
      queries: Count('Query images per class.'),
      attackSteps: Count('PGD steps of the evaluation attack.'),
      curve255: Type.Array(Type.Number({ minimum: 0 }), { description: 'Attack radii of the robustness curve, in 1/255 units.' }),
      strong: Type.Object({ steps: Count('PGD steps of the strong attack.'), restarts: Type.Integer({ minimum: 0 }), episodes: Count('Episodes of the strong attack.') }),
    }),
    /** Classes of the unseen domain for validation and for testing (a seeded split). */
    unseenSplit: Type.Object({ val: Count('Validation classes of the unseen domain.'), test: Count('Test classes of the unseen domain.') }),
    parallel: Count('Jobs at a time (one core each).'),
  },
  { additionalProperties: false, title: 'robust-meta experiment spec' },
);
export type ExperimentSpec = Static<typeof ExperimentSpecSchema>;
