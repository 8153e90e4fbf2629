// Where the package is installed and its version, found from this file's location, so that the
// defaults (bundled data, the worker script) do not depend on the current directory.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../core/errors';
import { findBundledData } from '../core/data/bundled';

let root: string | undefined;

/** The folder holding robust-meta's package.json (from out/src/runner or a bundle in dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if (JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'robust-meta') return (root = dir);
      } catch {
        // Not ours; keep looking upwards.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find robust-meta's package.json above ${__dirname}`);
    dir = parent;
  }
}

export function packageVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

export function versions(): { robustMeta: string; tfjs: string; node: string } {
  return { robustMeta: packageVersion(), tfjs: tf.version_core, node: process.versions.node };
}

export const DEFAULT_SOURCE_DATA = 'fashion-mnist-small';
export const DEFAULT_UNSEEN_DOMAIN = 'glyphs';

/** A bundled dataset's folder, found from the package (not the current directory). */
export function bundledDataPath(name: string): string {
  const found = findBundledData(name, packageRoot()) ?? findBundledData(name, __dirname);
  if (!found) throw new UserError(`the bundled dataset data/${name} is missing from ${packageRoot()}; reinstall robust-meta or pass --data <folder>`);
  return found;
}

/** The dataset a config trains on: config.data resolved against the current directory, or the bundled default. */
export function sourceDataPath(data: string): string {
  return data ? path.resolve(data) : bundledDataPath(DEFAULT_SOURCE_DATA);
}
