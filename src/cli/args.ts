// Command-line parsing: every config key is a flag (--kebab-case of the key), plus each command's
// own options. Mistakes are UsageErrors (exit code 2) that name the flag, the value and what is
// allowed.
import * as path from 'path';
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'util';
import { checkField, Config, CONFIG_FIELDS, ConfigKey, resolveConfig } from '../core/config';
import { UserError } from '../core/errors';
import { configDataPath, readConfigFile } from '../core/configFile';

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
type FieldSpec = {
  type: 'string' | 'number' | 'boolean';
  default: string | number | boolean;
  description: string;
  min?: number;
  max?: number;
  integer?: boolean;
  enum?: readonly string[];
};

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
    throw new UsageError(
      `--${spec.flag} ${JSON.stringify(raw)}: allowed values for '${key ?? spec.flag}' are ${spec.enum.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`,
    );
  }
  void command;
  return raw;
}

/**
 * Parses argv (after the command name) against `specs`: --flag value, --flag=value, --bool,
 * --no-bool, -x for a short alias, a camelCase spelling of a flag (as config files write keys),
 * and `--` before positionals that start with a dash. node:util's parseArgs splits the tokens;
 * this layer gives each its type and the messages that name the flag and what is allowed.
 */
export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[], command: string): ParsedArgs {
  const byFlag = new Map(specs.map((s) => [s.flag, s]));
  // Every spelling a token may use, typed for the tokenizer: a non-boolean flag takes the next
  // argument as its value even when it starts with a dash (--eps -1 is a bad value, not a flag).
  const config: ParseArgsConfig['options'] = {};
  for (const spec of specs) {
    const type = spec.type === 'boolean' ? 'boolean' : 'string';
    config[spec.flag] = { type, ...(spec.short ? { short: spec.short } : {}) };
    if (camel(spec.flag) !== spec.flag) config[camel(spec.flag)] = { type };
  }
  const { tokens } = nodeParseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    const spec = byFlag.get(t.name) ?? byFlag.get(kebab(t.name));
    if (!spec) {
      const base = t.name.startsWith('no-') ? byFlag.get(t.name.slice(3)) : undefined;
      if (base?.type === 'boolean' && t.value === undefined) {
        options[base.flag] = false;
        continue;
      }
      const near = suggest(t.name, [...byFlag.keys()]);
      throw new UsageError(
        `unknown option ${t.rawName} for '${command}'${near ? `; did you mean --${near}?` : ''} (robust-meta ${command} --help lists the options)`,
      );
    }
    if (spec.type === 'boolean' && t.value === undefined) {
      options[spec.flag] = true;
      continue;
    }
    if (t.value === undefined) throw new UsageError(`--${spec.flag} needs a value${spec.placeholder ? ` (${spec.placeholder})` : ''}`);
    options[spec.flag] = convert(spec, t.value, command);
  }
  return { options, positionals };
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
    let fromFile: Record<string, unknown>;
    try {
      fromFile = readConfigFile(file);
      resolveConfig(fromFile, `config file ${path.resolve(file)}`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    for (const [k, v] of Object.entries(fromFile)) if (k !== '$schema') explicit[k] = v;
    // The file's data is relative to the file's folder, as in the extension; a --data flag (below) to the current directory.
    if (typeof fromFile.data === 'string' && fromFile.data) explicit.data = configDataPath(fromFile.data, file);
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
