// A config file (JSON of config keys, see core/config.ts), as the CLI's --config and the
// extension's Start Training read it: one reader, and one rule for its relative paths.
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from './errors';

/** Reads a config file's JSON object (a byte-order mark accepted); the error names the file. */
export function readConfigFile(file: string): Record<string, unknown> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read config file ${abs} (${code === 'ENOENT' ? 'it does not exist' : (code ?? (e as Error).message)})`);
  }
  let value: unknown;
  try {
    // Editors on Windows may save UTF-8 with a byte-order mark, which JSON.parse rejects.
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UserError(`config file ${abs} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`config file ${abs} must hold a JSON object of config keys`);
  return value as Record<string, unknown>;
}

/**
 * The folder a config file's relative paths (its `data`) are relative to: the file's own, as a
 * path inside any file is read, so the same file gives the same data whatever the current
 * directory. The CLI and the extension both resolve through it.
 */
export function configBaseDir(configFile: string): string {
  return path.dirname(path.resolve(configFile));
}

/** A config file's `data` as a full path (see configBaseDir). */
export function configDataPath(data: string, configFile: string): string {
  return path.resolve(configBaseDir(configFile), data);
}
