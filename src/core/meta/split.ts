// Running split task steps (SplitStep, common.ts) on several hosts: which piece of which task goes
// where, and the exchange between a step's two phases. The pieces of a meta-batch are shared out
// in task order, each host runs its begin, this thread joins each task's couplings, and each host
// runs its finish with the coupling gradients of its pieces. A host is this thread (LocalPieces)
// or a task thread (parallel/threadExecutor.ts), which runs a LocalPieces of its own.
import * as tf from '@tensorflow/tfjs-core';
import { Config } from '../config';
import { Episode } from '../data/types';
import { ParamArray, ParamArrays, Params } from '../model/params';
import { readValues } from '../tensorUtil';
import { Joined, MethodContext, SplitStep, StepMetrics, StepPiece } from './common';
import { METHOD_IMPLS } from './methods';
import { addGrads, taskRng } from './tasks';

/** One piece of a meta-batch: piece `piece` of task `index` (its place in the meta-batch seeds its randomness). */
export interface PieceUnit {
  task: Episode;
  index: number;
  piece: number;
}

/** Where pieces run: begin gives their couplings, finish their gradients' sum and figures (both in unit order). */
export interface PieceHost {
  begin(params: Params, arrays: ParamArrays, units: PieceUnit[], step: number): Promise<ParamArray[]>;
  finish(grads: ParamArray[]): Promise<{ gradSum: Params | undefined; metrics: StepMetrics[] }>;
}

/** The method's split step and its piece count, or undefined where its steps do not split. */
export function splitOf(cfg: Config): { split: SplitStep; pieces: number } | undefined {
  const split = METHOD_IMPLS[cfg.method].splitStep;
  const pieces = split?.pieces(cfg) ?? 1;
  return split && pieces > 1 ? { split, pieces } : undefined;
}

/**
 * What a split piece costs beyond its share of the task: each mavrl view also adapts the other
 * view's encoder and projects its clean query, and computes its coupling outside the tape
 * (measured with bench on the benchmark step at meta-batch 1 on 2 cores: two threads took 0.58x
 * one thread's time, where perfect halves would take 0.5x; see the README's Performance).
 */
const SPLIT_OVERHEAD = 1.2;

/** Whether splitting `tasks` tasks into `pieces` each finishes sooner on `threads` threads than whole tasks do. */
export function splitPays(tasks: number, pieces: number, threads: number): boolean {
  const whole = Math.ceil(tasks / threads);
  const split = (Math.ceil((tasks * pieces) / threads) / pieces) * SPLIT_OVERHEAD;
  return split < whole;
}

/** The pieces each of `tasks` tasks is cut into when `threads` threads share them: the split's where it pays, else 1. */
export function piecesPerTask(cfg: Config, threads: number, tasks = cfg.metaBatch): number {
  const s = splitOf(cfg);
  return s && splitPays(tasks, s.pieces, threads) ? s.pieces : 1;
}

async function toArray(t: tf.Tensor): Promise<ParamArray> {
  return { shape: t.shape.slice(), data: (await readValues(t)) as Float32Array };
}

const toTensor = (a: ParamArray) => tf.tensor2d(a.data, a.shape as [number, number]);

/** Pieces run in this thread, held between begin and finish. */
export class LocalPieces implements PieceHost {
  private open: StepPiece[] = [];

  constructor(
    private readonly ctx: MethodContext,
    private readonly split: SplitStep,
  ) {}

  async begin(params: Params, _arrays: ParamArrays, units: PieceUnit[], step: number): Promise<ParamArray[]> {
    this.drop();
    try {
      for (const u of units) this.open.push(await this.split.begin(params, u.task, this.ctx, taskRng(this.ctx.cfg.seed, step, u.index), u.piece));
      return await Promise.all(this.open.map((p) => toArray(p.coupling)));
    } catch (e) {
      this.drop();
      throw e;
    }
  }

  async finish(grads: ParamArray[]): Promise<{ gradSum: Params | undefined; metrics: StepMetrics[] }> {
    const open = this.open;
    this.open = [];
    let gradSum: Params | undefined;
    const metrics: StepMetrics[] = [];
    try {
      for (const [i, piece] of open.entries()) {
        const g = toTensor(grads[i]);
        try {
          const out = await piece.finish(g);
          metrics.push(out.metrics);
          gradSum = addGrads(gradSum, out.grads);
        } finally {
          g.dispose();
        }
      }
      return { gradSum, metrics };
    } catch (e) {
      for (const p of open) p.dispose();
      if (gradSum) tf.dispose(Object.values(gradSum));
      throw e;
    }
  }

  /** Frees the pieces begun and not finished (a failed step's). */
  drop(): void {
    for (const p of this.open) p.dispose();
    this.open = [];
  }
}

/** `items` in `parts` contiguous runs of near-equal length (some may be empty). */
export function shareOut<T>(items: T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, i) => items.slice(Math.round((i * items.length) / parts), Math.round(((i + 1) * items.length) / parts)));
}

/**
 * One meta-batch, split, over `hosts`. Hosts are started in order and each begin or finish of a
 * task thread only posts a message before it awaits, so a host in this thread goes last: the
 * others then compute while it does.
 */
export async function runSplit(
  ctx: MethodContext,
  { split, pieces }: { split: SplitStep; pieces: number },
  hosts: PieceHost[],
  params: Params,
  arrays: ParamArrays,
  tasks: Episode[],
  step: number,
): Promise<{ gradSum: Params; metrics: StepMetrics[] }> {
  const units = tasks.flatMap((task, index) => Array.from({ length: pieces }, (_, piece) => ({ task, index, piece })));
  const shares = shareOut(units, hosts.length);
  const couplings = (await Promise.all(hosts.map((h, i) => (shares[i].length ? h.begin(params, arrays, shares[i], step) : [])))).flat();
  const joined: Joined[] = [];
  const grads: ParamArray[] = [];
  for (let t = 0; t < tasks.length; t++) {
    const cs = couplings.slice(t * pieces, (t + 1) * pieces).map(toTensor);
    const j = await split.join(ctx.cfg, cs);
    tf.dispose(cs);
    joined.push(j);
    for (const g of j.grads) grads.push(await toArray(g));
    tf.dispose(j.grads);
  }
  let offset = 0;
  const finishes = hosts.map((h, i) => {
    const mine = grads.slice(offset, (offset += shares[i].length));
    return shares[i].length ? h.finish(mine) : Promise.resolve({ gradSum: undefined, metrics: [] as StepMetrics[] });
  });
  const results = await Promise.all(finishes);
  let gradSum: Params | undefined;
  for (const r of results) if (r.gradSum) gradSum = addGrads(gradSum, r.gradSum);
  const unitMetrics = results.flatMap((r) => r.metrics);
  const metrics = joined.map((j, t) => split.combine(unitMetrics.slice(t * pieces, (t + 1) * pieces), j));
  return { gradSum: gradSum!, metrics };
}
