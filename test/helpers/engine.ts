// Shared set-up for engine tests: the best backend present (wasm here) and the bundled data.
import * as path from 'path';
import { initBackend } from '../../src/core/backend';
import { loadDataset } from '../../src/core/data';
import { Dataset, Episode } from '../../src/core/data/types';
import { resolveConfig, Config } from '../../src/core/config';
import { Rng } from '../../src/core/rng';

export const REPO = path.resolve(__dirname, '..', '..', '..');

export async function testBackend(): Promise<string> {
  return (await initBackend('auto')).name;
}

let fashion: Promise<Dataset> | undefined;
/** The bundled Fashion-MNIST subset (200 real images per class, 28x28 grey). */
export function fashionSmall(): Promise<Dataset> {
  fashion ??= loadDataset(path.join(REPO, 'data', 'fashion-mnist-small'));
  return fashion;
}

/** A small config for fast engine tests on 28x28 grey images. */
export function tinyConfig(over: Partial<Config> = {}): Config {
  return resolveConfig({
    imageSize: 28,
    channels: 1,
    width: 8,
    projectionDim: 16,
    ways: 5,
    shots: 1,
    queries: 4,
    metaBatch: 2,
    attackSteps: 2,
    innerSteps: 1,
    ...over,
  });
}

/** A random task of the right shape (for tests that need no real images). */
export function randomTask(cfg: Config, rng: Rng): Episode {
  const px = cfg.imageSize * cfg.imageSize * cfg.channels;
  const labels = (per: number) => Int32Array.from({ length: cfg.ways * per }, (_, i) => i % cfg.ways);
  return {
    ways: cfg.ways,
    shots: cfg.shots,
    queries: cfg.queries,
    height: cfg.imageSize,
    width: cfg.imageSize,
    channels: cfg.channels,
    support: rng.uniformArray(cfg.ways * cfg.shots * px, 0, 1),
    supportLabels: labels(cfg.shots),
    query: rng.uniformArray(cfg.ways * cfg.queries * px, 0, 1),
    queryLabels: labels(cfg.queries),
    classes: Array.from({ length: cfg.ways }, (_, i) => i),
  };
}
