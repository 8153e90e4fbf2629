// The JSON Schemas published in schemas/, generated from the declarations: editors validate
// config files and experiment specs with them, other tools read results and status with them.
// `npm run schema` writes them; test/formats.test.ts fails when a checked-in one is stale.
import type { TSchema } from '@sinclair/typebox';
import { configJsonSchema } from './config';
import { SplitFileSchema } from './data';
import { EvalResultFileSchema } from './evalResult';
import { ExperimentSpecSchema } from './experiment';
import { RunStatusFileSchema } from './run';

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** A TypeBox schema as plain JSON Schema (TypeBox's own symbols dropped by the JSON round trip). */
function published(schema: TSchema, title: string): Record<string, unknown> {
  return { $schema: DRAFT, title, ...JSON.parse(JSON.stringify(schema)) };
}

/** File name under schemas/ -> its JSON Schema. */
export function publishedSchemas(): Record<string, Record<string, unknown>> {
  return {
    'config.schema.json': configJsonSchema(),
    'results.schema.json': published(EvalResultFileSchema, 'robust-meta evaluation result (results/<name>.json)'),
    'status.schema.json': published(RunStatusFileSchema, 'robust-meta run status (runs/<id>/status.json)'),
    'experiment.schema.json': published(ExperimentSpecSchema, 'robust-meta experiment spec'),
    'splits.schema.json': published(SplitFileSchema, 'robust-meta dataset splits (splits.json)'),
  };
}
