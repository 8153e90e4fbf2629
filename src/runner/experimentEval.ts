// Child-process entry of an experiment's evaluation job: loads checkpoints and a dataset with the
// job's class split, runs evaluate() and writes the result file. Separate processes let the
// experiment use every core.
import * as fs from 'fs';
import { initBackend } from '../core/backend';
import { loadDataset, type LoadOptions } from '../core/data';
import { isUserError } from '../core/errors';
import { evaluate, type EvaluateOptions } from '../core/evaluate';
import { readCheckpoint } from './checkpoint';
import { writeJsonAtomic } from './runStore';

export interface ExperimentEvalJob {
  models: { name: string; checkpoint: string }[];
  data: string;
  load: Pick<LoadOptions, 'splitCounts' | 'splitSeed'>;
  options: Omit<EvaluateOptions, 'signal' | 'attack'> & { attackSteps: number };
  out: string;
}

async function main(file: string): Promise<void> {
  const job = JSON.parse(fs.readFileSync(file, 'utf8')) as ExperimentEvalJob;
  const backend = await initBackend('auto');
  const models = job.models.map((m) => {
    const c = readCheckpoint(m.checkpoint);
    return { name: m.name, cfg: c.header.config, params: c.state.params, checkpoint: m.checkpoint };
  });
  const { imageSize, channels } = models[0].cfg;
  const dataset = await loadDataset(job.data, { ...job.load, imageSize, channels: channels as 1 | 3 });
  const { attackSteps, ...rest } = job.options;
  let last = 0;
  const { result } = await evaluate(models, dataset, { ...rest, attack: { steps: attackSteps } }, (p) => {
    if (Date.now() - last > 10000) {
      last = Date.now();
      process.stderr.write(`${p.episodesDone}/${p.episodes} episodes, eta ${Math.round(p.etaSeconds)} s\n`);
    }
  });
  result.setting.backend = backend.name;
  writeJsonAtomic(job.out, result);
}

main(process.argv[2]).catch((e) => {
  process.stderr.write(isUserError(e) ? `${(e as Error).message}\n` : `${(e as Error)?.stack ?? e}\n`);
  process.exit(1);
});
