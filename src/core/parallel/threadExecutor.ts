// Runs the tasks of a meta-batch on several cores. Tasks are independent until their gradients
// are summed, and tfjs's wasm backend is single-threaded in Node, so each extra worker_thread
// (with its own tfjs and wasm backend) takes a share of the tasks while this thread computes its
// own share; the partial gradient sums are added here. Every task draws its randomness from
// taskRng(seed, step, index), so the result does not depend on how the tasks were shared out.
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { Episode } from '../data/types';
import { MethodContext, StepMetrics } from '../meta/common';
import { runTasksLocally, TaskExecutor } from '../meta/tasks';
import { Params, paramsToArrays } from '../model/params';
import { RequestThread } from './requestThread';
import type { ThreadReply, ThreadRequest } from './threadProtocol';

export class ThreadExecutor implements TaskExecutor {
  private readonly threads: RequestThread<ThreadRequest, ThreadReply>[];

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
  }

  async run(params: Params, tasks: Episode[], step: number): Promise<{ gradSum: Params; metrics: StepMetrics[] }> {
    const parts = this.threads.length + 1;
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * tasks.length) / parts));
    const arrays = await paramsToArrays(params);
    const remote = this.threads.map((t, i) => {
      const share = tasks.slice(bounds[i + 1], bounds[i + 2]);
      return share.length ? t.request({ type: 'run', cfg: this.ctx.cfg, params: arrays, tasks: share, step, first: bounds[i + 1] }) : undefined;
    });
    // This thread's share runs while the others compute theirs.
    const local = await runTasksLocally(this.ctx, params, tasks.slice(0, bounds[1]), step, 0);
    const results = await Promise.all(remote.map((p) => p ?? Promise.resolve(undefined)));
    const metrics = [...local.metrics];
    let gradSum = local.gradSum;
    for (const r of results) {
      if (!r) continue;
      metrics.push(...r.metrics);
      const prev = gradSum;
      gradSum = tf.tidy(() => {
        const s: Params = {};
        for (const k of Object.keys(prev)) s[k] = tf.add(prev[k], tf.tensor(r.gradSum[k].data, r.gradSum[k].shape));
        return s as unknown as tf.TensorContainer;
      }) as unknown as Params;
      tf.dispose(Object.values(prev));
    }
    return { gradSum, metrics };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
