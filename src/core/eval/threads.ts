// Evaluation on several cores. Episodes are independent, and tfjs's wasm and cpu backends use one
// core in Node, so worker threads (each with its own tfjs) take episodes from a queue while this
// thread samples them and collects the predictions. Results do not depend on which thread ran
// which episode.
import * as os from 'os';
import * as path from 'path';
import type { Config } from '../config';
import type { Episode } from '../data/types';
import type { ParamArrays } from '../model/params';
import { RequestThread, type ErrorReply } from '../parallel/requestThread';
import type { AttackPlan, EpisodePredictions, Head } from './episode';

export type EvalThreadRequest =
  | {
      type: 'setup';
      models: { name: string; cfg: Config; params: ParamArrays; head: Head; steps: number }[];
      plans: AttackPlan[];
      ways: number;
      seed: number;
    }
  /** tasks: one episode per image shape; taskOf[i]: which of them model i takes. */
  | { type: 'episode'; index: number; tasks: Episode[]; taskOf: number[] };

export type EvalThreadReply = { type: 'ready' } | { type: 'result'; index: number; out: EpisodePredictions[]; seconds: number[] } | ErrorReply;

/** Fewest episodes per thread that make a thread worth its start-up (a second or so). */
const MIN_EPISODES_PER_THREAD = 4;

/**
 * Threads to use: the number asked for, or with 'auto' one per core on the wasm and cpu backends
 * (native backends use every core already), with at least a few episodes each.
 */
export function evalThreadCount(requested: number | 'auto' | undefined, episodes: number, backend: string): number {
  if (typeof requested === 'number') return Math.max(1, Math.min(requested, episodes));
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  return Math.max(1, Math.min(os.availableParallelism(), Math.floor(episodes / MIN_EPISODES_PER_THREAD)));
}

type EvalThread = RequestThread<EvalThreadRequest, EvalThreadReply>;

export interface EpisodeJob {
  tasks: Episode[];
  taskOf: number[];
}

/**
 * Runs episodes 0..count-1 on `threads` worker threads. `episode(i)` builds episode i's request
 * (called on this thread, in order, as threads become free); `done` gets each result as it comes.
 * Stops, terminating the threads, at the first error or when `signal` aborts.
 */
export async function runOnThreads(
  threads: number,
  backend: string,
  setup: Extract<EvalThreadRequest, { type: 'setup' }>,
  count: number,
  episode: (index: number) => EpisodeJob,
  done: (r: Extract<EvalThreadReply, { type: 'result' }>) => void,
  signal?: AbortSignal,
): Promise<void> {
  const pool: EvalThread[] = Array.from({ length: threads }, () => new RequestThread(path.join(__dirname, 'evalThread.js'), backend, 'an evaluation thread'));
  let stopped = false;
  try {
    await Promise.all(pool.map((t) => t.request(setup)));
    let next = 0;
    const drain = async (t: EvalThread) => {
      while (!stopped && next < count) {
        signal?.throwIfAborted();
        const index = next++;
        const reply = await t.request({ type: 'episode', index, ...episode(index) });
        if (reply.type === 'result' && !stopped) done(reply);
      }
    };
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    await Promise.race([Promise.all(pool.map(drain)), aborted]);
  } finally {
    stopped = true;
    await Promise.all(pool.map((t) => t.terminate()));
  }
}
