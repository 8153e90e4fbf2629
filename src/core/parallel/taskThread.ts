// Entry of a task thread: its own tfjs with the same backend as the main thread; computes the
// summed gradient of the tasks it is sent, at the parameters it is sent.
import { modelSpecOf, runTasksLocally } from '../meta/tasks';
import { disposeParams, paramsFromArrays, paramsToArrays } from '../model/params';
import { serveRequests } from './requestThread';
import type { ThreadReply, ThreadRequest } from './threadProtocol';

serveRequests(async (req: ThreadRequest): Promise<ThreadReply> => {
  const params = paramsFromArrays(req.params);
  try {
    const out = await runTasksLocally({ cfg: req.cfg, spec: modelSpecOf(req.cfg) }, params, req.tasks, req.step, req.first);
    const reply: ThreadReply = { type: 'result', gradSum: await paramsToArrays(out.gradSum), metrics: out.metrics };
    disposeParams(out.gradSum);
    return reply;
  } finally {
    disposeParams(params);
  }
});
