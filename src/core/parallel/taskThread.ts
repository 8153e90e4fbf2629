// Entry of a task thread: its own tfjs with the same backend as the main thread; computes the
// summed gradient of the tasks it is sent, at the parameters it is sent.
import { parentPort, workerData } from 'worker_threads';
import { BackendChoice, initBackend } from '../backend';
import { isUserError } from '../errors';
import { modelSpecOf, runTasksLocally } from '../meta/tasks';
import { disposeParams, paramsFromArrays, paramsToArrays } from '../model/params';
import type { ThreadReply, ThreadRequest } from './threadProtocol';

const ready = initBackend(workerData.backend as BackendChoice);

parentPort!.on('message', async (req: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    await ready;
    const params = paramsFromArrays(req.params);
    try {
      const out = runTasksLocally({ cfg: req.cfg, spec: modelSpecOf(req.cfg) }, params, req.tasks, req.step, req.first);
      reply = { type: 'result', gradSum: paramsToArrays(out.gradSum), metrics: out.metrics };
      disposeParams(out.gradSum);
    } finally {
      disposeParams(params);
    }
  } catch (e) {
    reply = { type: 'error', message: isUserError(e) ? (e as Error).message : String((e as Error)?.stack ?? e), userError: isUserError(e) };
  }
  parentPort!.postMessage(reply);
});
