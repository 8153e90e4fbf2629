// Entry of an evaluation thread: its own tfjs on the same backend as the main thread. Set up once
// with the models, then sent episodes one at a time; replies with each model's predictions. The
// attack randomness comes from (seed, episode), so any thread computes the same numbers.
import { disposeTask, taskTensors } from '../meta/common';
import { serveRequests } from '../parallel/requestThread';
import { EpisodePredictions, predictEpisode, PreparedModel, prepareModel } from './episode';
import type { EvalThreadReply, EvalThreadRequest } from './threads';

let models: PreparedModel[] = [];
let setup: Extract<EvalThreadRequest, { type: 'setup' }> | undefined;

async function handle(req: EvalThreadRequest): Promise<EvalThreadReply> {
  if (req.type === 'setup') {
    setup = req;
    models = req.models.map((m) => prepareModel(m.name, m.cfg, m.params, m.head, m.steps, req.ways));
    return { type: 'ready' };
  }
  if (!setup) throw new Error('an evaluation thread got an episode before its setup');
  const s = setup;
  const tasks = req.tasks.map((ep) => taskTensors(ep, undefined));
  try {
    const out: EpisodePredictions[] = [];
    const seconds: number[] = [];
    for (const [i, m] of models.entries()) {
      const start = performance.now();
      out.push(await predictEpisode(m, tasks[req.taskOf[i]], s.ways, s.plans, s.seed, req.index));
      seconds.push((performance.now() - start) / 1000);
    }
    return { type: 'result', index: req.index, out, seconds };
  } finally {
    tasks.forEach(disposeTask);
  }
}

serveRequests(handle);
