// The config a training started from VS Code runs with: the chosen config file (or none) over
// the user's settings (method, backend), with its data path resolved and checked to stay inside
// the workspace. Pure Node, no vscode import, unit-tested.
import * as fs from 'fs';
import * as path from 'path';
import { defaultConfig, resolveConfig, type Config } from '../core/config';
import { configBaseDir, readConfigFile } from '../core/configFile';
import { UserError } from '../core/errors';
import { isInsideAny } from './paths';

export const CONFIG_FILE_GLOB = '**/{*.robust-meta.json,robust-meta.config.json}';

export function isConfigFileName(name: string): boolean {
  const base = path.basename(name);
  return base.endsWith('.robust-meta.json') || base === 'robust-meta.config.json';
}

export { readConfigFile };

export interface TrainConfigInput {
  /** The config file's values and path, or undefined for the defaults. */
  file?: { path: string; values: Record<string, unknown> };
  /** From the settings: used where the file does not say. */
  method: Config['method'];
  backend: Config['backend'];
  /** Folders a data path may lie in (the workspace folders). */
  allowedRoots: string[];
}

/**
 * The resolved config; a UserError says which value is wrong and where it came from. An empty
 * 'data' stays empty: the worker reads it as the bundled Fashion-MNIST subset of its own package
 * (the extension's data/), which keeps the run's config.json valid after the extension updates.
 */
export function buildTrainConfig(input: TrainConfigInput): Config {
  const origin = input.file?.path ?? 'settings';
  const values: Record<string, unknown> = { method: input.method, backend: input.backend, ...(input.file?.values ?? {}) };
  const cfg = resolveConfig(values, origin);
  if (cfg.data) {
    // A config file's data is relative to its folder, as in the CLI (configBaseDir).
    const base = input.file ? configBaseDir(input.file.path) : (input.allowedRoots[0] ?? process.cwd());
    cfg.data = checkedDataPath(cfg.data, base, input.allowedRoots, origin);
  }
  return cfg;
}

/**
 * The workspace rule for a config's 'data', for every way a run starts (Start, and Resume, which
 * trains on whatever a run's config.json names): it must resolve inside `allowedRoots` and exist.
 * `base` is the folder a relative `data` is relative to.
 * Returns the full path.
 */
export function checkedDataPath(data: string, base: string, allowedRoots: readonly string[], origin: string): string {
  const full = path.resolve(base, data);
  if (!isInsideAny(allowedRoots, full)) {
    throw new UserError(
      `${origin}: 'data' ${JSON.stringify(data)} resolves to ${full}, outside the workspace; the extension only reads data inside the workspace folders (copy or link the data into the workspace, or use the CLI)`,
    );
  }
  if (!fs.existsSync(full)) throw new UserError(`${origin}: 'data' ${JSON.stringify(data)}: ${full} does not exist`);
  return full;
}

/** A new config file's content: the keys people change most, at their defaults. */
export function newConfigText(method: Config['method']): string {
  const d = defaultConfig();
  const keys: (keyof Config)[] = [
    'backbone',
    'ways',
    'shots',
    'queries',
    'metaBatch',
    'steps',
    'eps',
    'attackSteps',
    'lambda',
    'agreement',
    'checkpointEvery',
    'seed',
    'data',
  ];
  const out: Record<string, unknown> = { method };
  for (const k of keys) out[k] = d[k];
  return JSON.stringify(out, null, 2) + '\n';
}

/** `<stem>.robust-meta.json` in `dir`, with -2, -3... when taken. */
export function freeConfigPath(dir: string, stem: string): string {
  const clean =
    stem
      .trim()
      .replace(/\.robust-meta\.json$/, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-') || 'experiment';
  for (let n = 1; ; n++) {
    const p = path.join(dir, `${clean}${n === 1 ? '' : `-${n}`}.robust-meta.json`);
    if (!fs.existsSync(p)) return p;
  }
}
