// Runs the tasks of a meta-batch on several cores. Tasks are independent until their gradients
// are summed, and tfjs's wasm backend is single-threaded in Node, so each extra worker_thread
// (with its own tfjs and wasm backend) takes a share of the tasks while this thread computes its
// own share; the partial gradient sums are added here. With more threads than tasks, a method
// whose step splits (mavrl: one piece per view) shares out the pieces instead (meta/split.ts).
// Every task draws its randomness from taskRng(seed, step, index), so the result does not depend
// on how the work was shared out.
import * as path from 'path';
import { Episode } from '../data/types';
import { MethodContext, StepMetrics } from '../meta/common';
import { LocalPieces, PieceHost, PieceUnit, piecesPerTask, runSplit, shareOut, splitOf } from '../meta/split';
import { addGrads, runTasksLocally, TaskExecutor } from '../meta/tasks';
import { ParamArray, ParamArrays, Params, paramsFromArrays, paramsToArrays } from '../model/params';
import { RequestThread } from './requestThread';
import type { ThreadReply, ThreadRequest } from './threadProtocol';

type TaskThread = RequestThread<ThreadRequest, ThreadReply>;

function expect<K extends ThreadReply['type']>(reply: ThreadReply, type: K): Extract<ThreadReply, { type: K }> {
  if (reply.type !== type) throw new Error(`a task thread answered '${reply.type}' where '${type}' was due`);
  return reply as Extract<ThreadReply, { type: K }>;
}

/** A task thread as a host of split pieces. */
class ThreadPieces implements PieceHost {
  constructor(
    private readonly thread: TaskThread,
    private readonly ctx: MethodContext,
  ) {}

  async begin(_params: Params, arrays: ParamArrays, units: PieceUnit[], step: number): Promise<ParamArray[]> {
    return expect(await this.thread.request({ type: 'begin', cfg: this.ctx.cfg, params: arrays, units, step }), 'couplings').couplings;
  }

  async finish(grads: ParamArray[]): Promise<{ gradSum: Params | undefined; metrics: StepMetrics[] }> {
    const r = expect(await this.thread.request({ type: 'finish', grads }), 'result');
    return { gradSum: Object.keys(r.gradSum).length ? paramsFromArrays(r.gradSum) : undefined, metrics: r.metrics };
  }
}

export class ThreadExecutor implements TaskExecutor {
  private readonly threads: TaskThread[];
  private readonly local: LocalPieces | undefined;

  /** `extraThreads` worker threads besides this one, each on `backend`. */
  constructor(
    private readonly ctx: MethodContext,
    extraThreads: number,
    backend: string,
  ) {
    this.threads = Array.from(
      { length: extraThreads },
      () => new RequestThread<ThreadRequest, ThreadReply>(path.join(__dirname, 'taskThread.js'), backend, 'a task thread'),
    );
    const split = splitOf(ctx.cfg);
    this.local = split && new LocalPieces(ctx, split.split);
  }

  async run(params: Params, tasks: Episode[], step: number): Promise<{ gradSum: Params; metrics: StepMetrics[] }> {
    const arrays = await paramsToArrays(params);
    const split = splitOf(this.ctx.cfg);
    if (split && this.local && piecesPerTask(this.ctx.cfg, this.threads.length + 1, tasks.length) > 1) {
      // This thread's pieces come last (runSplit starts the hosts in order).
      const hosts = [...this.threads.map((t) => new ThreadPieces(t, this.ctx)), this.local];
      return runSplit(this.ctx, split, hosts, params, arrays, tasks, step);
    }
    const shares = shareOut(
      tasks.map((task, index) => ({ task, index })),
      this.threads.length + 1,
    );
    const remote = this.threads.map((t, i) => {
      const share = shares[i + 1];
      return share.length
        ? t.request({ type: 'run', cfg: this.ctx.cfg, params: arrays, tasks: share.map((s) => s.task), step, first: share[0].index })
        : undefined;
    });
    // This thread's share runs while the others compute theirs.
    const local = await runTasksLocally(
      this.ctx,
      params,
      shares[0].map((s) => s.task),
      step,
      0,
    );
    const results = await Promise.all(remote.map((p) => p ?? Promise.resolve(undefined)));
    const metrics = [...local.metrics];
    let gradSum = local.gradSum;
    for (const r of results) {
      if (!r) continue;
      const { gradSum: part, metrics: m } = expect(r, 'result');
      metrics.push(...m);
      gradSum = addGrads(gradSum, paramsFromArrays(part));
    }
    return { gradSum, metrics };
  }

  async dispose(): Promise<void> {
    this.local?.drop();
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
