// The one way to read a file (or message) whose format is declared in src/formats/: check the
// parsed value against its TypeBox schema and fail with a message that names the file and the
// path inside it ("runs/x/status.json: /step: expected integer"). Dependency-free apart from
// TypeBox (no tfjs, no node imports), so the webview can use the same declarations.
import type { Static, TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';

/** A file or message does not match its declared format. The message is for the user as is. */
export class FormatError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`);
    // The CLI and extension print a UserError's message alone, without a stack (core/errors.ts).
    this.name = 'UserError';
  }
}

/** A value as the user wrote it, shortened. */
function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** TypeBox's message, made concrete where it is vague: a union of constants lists them. */
function describe(schema: TSchema, message: string): string {
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (options && options.length && options.every((o) => o.const !== undefined)) return `expected one of ${options.map((o) => String(o.const)).join(', ')}`;
  return message.replace(/^Expected/, 'expected');
}

/** Errors that say the value is of another JSON kind than the schema (string, array, object, ...). */
const KIND_ERRORS = new Set<number>([
  ValueErrorType.Array,
  ValueErrorType.Boolean,
  ValueErrorType.Integer,
  ValueErrorType.Literal,
  ValueErrorType.Null,
  ValueErrorType.Number,
  ValueErrorType.Object,
  ValueErrorType.String,
]);

/**
 * The errors worth showing for one error: a union's own message ("expected union value") says
 * nothing, so it is replaced by the errors of the alternatives the value is of the right kind for
 * (a list given where a string or a list is allowed is checked as a list).
 */
function* concrete(e: ValueError): Generator<ValueError> {
  if (e.type !== ValueErrorType.Union) return yield e;
  const fitting = e.errors.map((it) => [...it]).filter((errs) => !errs.some((x) => x.path === e.path && KIND_ERRORS.has(x.type)));
  if (fitting.length !== 1) return yield e;
  for (const x of fitting[0]) yield* concrete(x);
}

/** The problems of `value` against `schema`, each as "<json pointer>: <message>, got <value>", at most `max`. */
export function formatProblems(schema: TSchema, value: unknown, max = 10): string[] {
  const out: string[] = [];
  for (const top of Value.Errors(schema, value)) {
    for (const e of concrete(top)) {
      out.push(`${e.path || '/'}: ${describe(e.schema, e.message)}, got ${shown(e.value)}`);
      if (out.length >= max) return out;
    }
  }
  return out;
}

/** `value` typed as the schema's type when it matches; otherwise a FormatError naming `source`. */
export function check<T extends TSchema>(schema: T, value: unknown, source: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  throw new FormatError(source, formatProblems(schema, value));
}

/**
 * Like check, after filling what the schema gives a default for (a copy: `value` is not changed),
 * for files whose older versions lack fields that have a meaningful default.
 */
export function checkWithDefaults<T extends TSchema>(schema: T, value: unknown, source: string): Static<T> {
  return check(schema, Value.Default(schema, Value.Clone(value)), source);
}

/**
 * JSON text parsed and checked, or undefined when it is not JSON or not of the format: for views
 * that show what is there and take a file they cannot read as not written yet.
 */
export function parseJsonIfValid<T extends TSchema>(schema: T, text: string): Static<T> | undefined {
  try {
    const value: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    return Value.Check(schema, value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** JSON text parsed (a UTF-8 byte-order mark accepted) and checked; bad JSON is a FormatError too. */
export function parseJson<T extends TSchema>(schema: T, text: string, source: string): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new FormatError(source, [`not valid JSON (${(e as Error).message})`]);
  }
  return check(schema, value, source);
}
