// Run folders made on disk for the extension's unit tests, written with the runner's own store.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultConfig, type Config } from '../../src/core/config';
import type { EvalResultFile } from '../../src/core/evalResult';
import { RUN_FORMAT_VERSION, type MetricLine, type RunState } from '../../src/runner/runFormat';
import { acquireRunLock } from '../../src/runner/runLock';
import { appendMetric, writeRunConfig, writeStatus } from '../../src/runner/runStore';

export function tmpDir(prefix = 'rm-ext-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function metric(step: number, over: Partial<MetricLine> = {}): MetricLine {
  return {
    step,
    time: new Date(1_700_000_000_000 + step * 1000).toISOString(),
    loss: 2 / step,
    ceLoss: 1 / step,
    agreementLoss: 0.5 / step,
    cleanAcc: Math.min(1, 0.2 + step / 100),
    robustAcc: Math.min(1, 0.1 + step / 200),
    gradNorm: 1,
    msPerStep: 10,
    ...over,
  };
}

export interface RunSpec {
  id: string;
  method?: Config['method'];
  state?: RunState;
  step?: number;
  steps?: number;
  createdAt?: string;
  pid?: number;
  checkpoints?: number[];
  results?: Record<string, EvalResultFile | string>;
  metrics?: number;
}

export function makeRun(runsDir: string, spec: RunSpec): string {
  const dir = path.join(runsDir, spec.id);
  fs.mkdirSync(dir, { recursive: true });
  const config = { ...defaultConfig(), method: spec.method ?? 'mavrl', steps: spec.steps ?? 100 };
  writeRunConfig(dir, {
    format: RUN_FORMAT_VERSION,
    id: spec.id,
    createdAt: spec.createdAt ?? '2026-11-26T10:00:00.000Z',
    config,
    backend: 'wasm',
    versions: { robustMeta: '0.1.0', tfjs: '4.22.0', node: process.version },
  });
  // A run said to be running in this process holds its lock, as a trainer does.
  if (spec.state === 'running' && spec.pid === process.pid) acquireRunLock(dir);
  writeStatus(dir, { state: spec.state ?? 'done', step: spec.step ?? 0, totalSteps: config.steps, pid: spec.pid });
  for (let s = 1; s <= (spec.metrics ?? 0); s++) appendMetric(dir, metric(s));
  if (spec.checkpoints?.length) {
    fs.mkdirSync(path.join(dir, 'checkpoints'));
    for (const c of spec.checkpoints) fs.writeFileSync(path.join(dir, 'checkpoints', `step-${String(c).padStart(8, '0')}.ckpt`), 'x');
  }
  if (spec.results) {
    fs.mkdirSync(path.join(dir, 'results'));
    for (const [name, r] of Object.entries(spec.results))
      fs.writeFileSync(path.join(dir, 'results', `${name}.json`), typeof r === 'string' ? r : JSON.stringify(r));
  }
  return dir;
}

export function evalResult(
  models: { model: string; clean: number; robust: number; curve?: [number, number][]; samples?: EvalResultFile['models'][number]['samples'] }[],
): EvalResultFile {
  return {
    format: 1,
    createdAt: '2026-11-26T12:00:00.000Z',
    setting: {
      dataset: 'glyphs',
      dataPath: '/data/glyphs',
      split: 'test',
      ways: 5,
      shots: 1,
      queries: 15,
      episodes: 400,
      seed: 0,
      attack: { norm: 'linf', eps: 8 / 255, steps: 20, stepSize: 2 / 255, restarts: 1 },
      innerStepsTest: 10,
    },
    models: models.map((m) => ({
      model: m.model,
      method: m.model.split(' ')[0],
      checkpoint: `/runs/${m.model}/checkpoints/step-00000100.ckpt`,
      head: 'finetune',
      clean: { mean: m.clean, ci95: 0.012 },
      robust: { mean: m.robust, ci95: 0.011 },
      curve: (m.curve ?? []).map(([eps, acc]) => ({ eps: eps / 255, accuracy: { mean: acc, ci95: 0.01 } })),
      samples: m.samples,
      seconds: 12,
    })),
  };
}
