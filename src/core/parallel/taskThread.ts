// Entry of a task thread: its own tfjs with the same backend as the main thread. It computes the
// summed gradient of the tasks it is sent, at the parameters it is sent, or runs pieces of split
// tasks, holding them (and their parameters) from 'begin' to 'finish'.
import { LocalPieces, splitOf } from '../meta/split';
import { modelSpecOf, runTasksLocally } from '../meta/tasks';
import { disposeParams, Params, paramsFromArrays, paramsToArrays } from '../model/params';
import { serveRequests } from './requestThread';
import type { ThreadReply, ThreadRequest } from './threadProtocol';

let open: { pieces: LocalPieces; params: Params } | undefined;

function close(): void {
  open?.pieces.drop();
  disposeParams(open?.params);
  open = undefined;
}

serveRequests(async (req: ThreadRequest): Promise<ThreadReply> => {
  if (req.type === 'finish') {
    if (!open) throw new Error("a task thread was sent 'finish' without a 'begin'");
    try {
      const out = await open.pieces.finish(req.grads);
      const reply: ThreadReply = { type: 'result', gradSum: out.gradSum ? await paramsToArrays(out.gradSum) : {}, metrics: out.metrics };
      disposeParams(out.gradSum);
      return reply;
    } finally {
      close();
    }
  }
  close();
  const params = paramsFromArrays(req.params);
  const ctx = { cfg: req.cfg, spec: modelSpecOf(req.cfg) };
  if (req.type === 'begin') {
    const split = splitOf(req.cfg);
    if (!split) throw new Error(`a task thread was sent pieces of ${req.cfg.method} steps, which do not split`);
    open = { pieces: new LocalPieces(ctx, split.split), params };
    try {
      return { type: 'couplings', couplings: await open.pieces.begin(params, req.params, req.units, req.step) };
    } catch (e) {
      close();
      throw e;
    }
  }
  try {
    const out = await runTasksLocally(ctx, params, req.tasks, req.step, req.first);
    const reply: ThreadReply = { type: 'result', gradSum: await paramsToArrays(out.gradSum), metrics: out.metrics };
    disposeParams(out.gradSum);
    return reply;
  } finally {
    disposeParams(params);
  }
});
