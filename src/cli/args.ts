// Command-line parsing: every config key is a flag (--kebab-case of the key), plus each command's
// own options. Mistakes are UsageErrors (exit code 2) that name the flag, the value and what is
// allowed.
import * as fs from 'fs';
import * as path from 'path';
import { checkField, Config, CONFIG_FIELDS, ConfigKey, resolveConfig } from '../core/config';
import { UserError } from '../core/errors';

/** A mistake in how the command was called or configured: exit code 2. */
export class UsageError extends UserError {
  readonly usage = true;
}

export function isUsageError(e: unknown): boolean {
  return e instanceof Error && (e as { usage?: boolean }).usage === true;
}

export interface OptionSpec {
  /** The flag without dashes, kebab-case. */
  flag: string;
  type: 'string' | 'number' | 'boolean';
  description: string;
  /** Shown in help. */
  placeholder?: string;
  default?: string | number | boolean;
  enum?: readonly string[];
  /** A one-letter alias, e.g. 'h'. */
  short?: string;
}

export type OptionValue = string | number | boolean;

export interface ParsedArgs {
  /** Values by flag (kebab-case). */
  options: Record<string, OptionValue>;
  positionals: string[];
}

export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A config field seen loosely (the table's own type is a union of exact literals). */
type FieldSpec = { type: 'string' | 'number' | 'boolean'; default: string | number | boolean; description: string; min?: number; max?: number; integer?: boolean; enum?: readonly string[] };

function field(key: ConfigKey): FieldSpec {
  return CONFIG_FIELDS[key] as FieldSpec;
}

/** What a config key accepts, in words, for error messages and help. */
export function allowedValues(key: ConfigKey): string {
  const f = field(key);
  if (f.type === 'boolean') return 'true or false';
  if (f.type === 'string') return f.enum ? `one of ${f.enum.join(', ')}` : 'a string';
  const kind = f.integer ? 'a whole number' : 'a number';
  if (f.min !== undefined && f.max !== undefined) return `${kind} from ${f.min} to ${f.max}`;
  if (f.min !== undefined) return `${kind} >= ${f.min}`;
  return kind;
}

export const CONFIG_OPTIONS: OptionSpec[] = (Object.keys(CONFIG_FIELDS) as ConfigKey[]).map((key) => {
  const f = field(key);
  return {
    flag: kebab(key),
    type: f.type,
    description: f.description,
    default: f.default,
    enum: f.enum,
    placeholder: f.type === 'boolean' ? undefined : f.enum ? f.enum.join('|') : f.type === 'number' ? 'n' : 'value',
  };
});

const CONFIG_FLAG_TO_KEY = new Map<string, ConfigKey>((Object.keys(CONFIG_FIELDS) as ConfigKey[]).map((k) => [kebab(k), k]));

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/** The closest of `names` to `name`, when close enough to be a likely typo. */
export function suggest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Reads a number; fractions like 8/255 are allowed, as eps is usually written. */
function parseNumber(raw: string): number {
  const frac = /^\s*(-?[\d.]+(?:e-?\d+)?)\s*\/\s*([\d.]+(?:e-?\d+)?)\s*$/i.exec(raw);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  return raw.trim() === '' ? NaN : Number(raw);
}

function convert(spec: OptionSpec, raw: string, command: string): OptionValue {
  const key = CONFIG_FLAG_TO_KEY.get(spec.flag);
  if (spec.type === 'number') {
    const v = parseNumber(raw);
    if (!Number.isFinite(v)) {
      throw new UsageError(`--${spec.flag} ${JSON.stringify(raw)}: not a number${key ? `; allowed: ${allowedValues(key)}` : ''}`);
    }
    return v;
  }
  if (spec.type === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new UsageError(`--${spec.flag}=${raw}: must be true or false (or use --${spec.flag} / --no-${spec.flag})`);
  }
  if (spec.enum && !spec.enum.includes(raw)) {
    const near = suggest(raw, spec.enum);
    throw new UsageError(`--${spec.flag} ${JSON.stringify(raw)}: allowed values for '${key ?? spec.flag}' are ${spec.enum.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`);
  }
  void command;
  return raw;
}

/**
 * Parses argv (after the command name) against `specs`: --flag value, --flag=value, --bool,
 * --no-bool, -x for a short alias, and `--` before positionals that start with a dash.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string): ParsedArgs {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let spec: OptionSpec | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byFlag.get(name);
      if (!spec && name.startsWith('no-') && byFlag.get(name.slice(3))?.type === 'boolean' && inline === undefined) {
        options[name.slice(3)] = false;
        continue;
      }
      // camelCase spelling of a kebab flag: accept it, since config files use it.
      if (!spec && byFlag.get(kebab(name))) {
        name = kebab(name);
        spec = byFlag.get(name);
      }
    } else {
      name = arg.slice(1);
      spec = byShort.get(name);
    }
    if (!spec) {
      const near = suggest(name, [...byFlag.keys()]);
      throw new UsageError(`unknown option ${arg.split('=')[0]} for '${command}'${near ? `; did you mean --${near}?` : ''} (robust-meta ${command} --help lists the options)`);
    }
    if (spec.type === 'boolean' && inline === undefined) {
      options[spec.flag] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${spec.flag} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ''}`);
      raw = argv[++i];
    }
    options[spec.flag] = convert(spec, raw, command);
  }
  return { options, positionals };
}

/** Reads a config file: JSON whose keys are config keys (a "$schema" key is allowed). */
export function readConfigFile(file: string): Record<string, unknown> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config file ${abs} (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message})`);
  }
  let value: unknown;
  try {
    // Editors on Windows may save UTF-8 with a byte-order mark, which JSON.parse rejects.
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`config file ${abs} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`config file ${abs} must hold a JSON object of config keys`);
  return value as Record<string, unknown>;
}

export interface ConfigFromArgs {
  config: Config;
  /** The keys set explicitly (by --config or a flag), with their values. */
  explicit: Partial<Config>;
}

/**
 * The config of a command: defaults, then --config file values, then flags; each flag's value
 * checked with a message naming the flag, the value and what is allowed. `base` replaces the
 * defaults (e.g. bench's own step count).
 */
export function configFromArgs(parsed: ParsedArgs, base: Partial<Config> = {}): ConfigFromArgs {
  const explicit: Record<string, unknown> = {};
  const file = parsed.options['config'];
  if (typeof file === 'string') {
    // The `slurm` section is the executor's, not a config key (cli/slurmOptions.ts reads it).
    const { slurm: _executorSection, ...fromFile } = readConfigFile(file);
    void _executorSection;
    try {
      resolveConfig(fromFile, `config file ${path.resolve(file)}`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    for (const [k, v] of Object.entries(fromFile)) if (k !== '$schema') explicit[k] = v;
  }
  for (const [flag, value] of Object.entries(parsed.options)) {
    const key = CONFIG_FLAG_TO_KEY.get(flag);
    if (!key) continue;
    const why = checkField(key, value);
    if (why) throw new UsageError(`--${flag} ${JSON.stringify(value)}: ${why}; allowed: ${allowedValues(key)}`);
    explicit[key] = value;
  }
  try {
    const config = resolveConfig({ ...base, ...explicit }, 'command line');
    return { config, explicit: explicit as Partial<Config> };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function isConfigFlag(flag: string): boolean {
  return CONFIG_FLAG_TO_KEY.has(flag);
}
