// The config of a run as a TypeBox schema, derived from the one table of settings (CONFIG_FIELDS
// in core/config.ts, dependency-free): the Config type of a run's config.json and checkpoint
// header, and the published schemas/config.schema.json. resolveConfig (core/config.ts) stays the
// validator of a user's values: it gives messages per key and checks the rules between keys.
import {
  Type,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type Static,
  type TNumber,
  type TObject,
  type TSchema,
  type TString,
  type TUnion,
} from '@sinclair/typebox';
import { CONFIG_FIELDS, type Config, type ConfigKey } from '../core/config';
import { SlurmOptionsSchema } from './slurm';

/** The TypeBox type of a field of the table, so that Static<ConfigSchema> is the Config type. */
type FieldSchema<F> = F extends { type: 'number'; integer: true }
  ? TInteger
  : F extends { type: 'number' }
    ? TNumber
    : F extends { type: 'boolean' }
      ? TBoolean
      : F extends { enum: readonly (infer E extends string)[] }
        ? TUnion<TLiteral<E>[]>
        : TString;
type ConfigProperties = { [K in ConfigKey]: FieldSchema<(typeof CONFIG_FIELDS)[K]> };

function fieldSchema(f: (typeof CONFIG_FIELDS)[keyof typeof CONFIG_FIELDS]): TSchema {
  const base = { description: f.description, default: f.default };
  if (f.type === 'number') {
    const range = { ...('min' in f ? { minimum: f.min } : {}), ...('max' in f ? { maximum: f.max } : {}) };
    return 'integer' in f && f.integer ? Type.Integer({ ...base, ...range }) : Type.Number({ ...base, ...range });
  }
  if (f.type === 'boolean') return Type.Boolean(base);
  if ('enum' in f)
    return Type.Union(
      f.enum.map((v: string) => Type.Literal(v)),
      base,
    );
  return Type.String(base);
}

/** Every key of a run's config, each with its type, range and default. */
export const ConfigSchema = Type.Object(Object.fromEntries(Object.entries(CONFIG_FIELDS).map(([k, f]) => [k, fieldSchema(f)])), {
  additionalProperties: false,
}) as unknown as TObject<ConfigProperties>;

/** The JSON Schema of a config file (every key optional, `$schema` allowed), for editors. */
export function configJsonSchema(): Record<string, unknown> {
  const partial = Type.Partial(ConfigSchema);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'robust-meta run config',
    type: 'object',
    additionalProperties: false,
    // The JSON round trip drops TypeBox's own symbol keys.
    properties: {
      $schema: { type: 'string' },
      ...JSON.parse(JSON.stringify(partial.properties)),
      // Not a config key: the Slurm executor's options for runs of this file (core/configFile.ts).
      slurm: { description: 'Slurm executor options (train --executor slurm)', ...JSON.parse(JSON.stringify(SlurmOptionsSchema)) },
    },
  };
}

// Compile-time proof that the schema's type is the table's Config type, both ways.
type SameAs<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const configTypesAgree: SameAs<Static<typeof ConfigSchema>, Config> = true;
void configTypesAgree;
