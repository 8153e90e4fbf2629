// Messages between the ThreadExecutor and its task threads: whole tasks ('run'), or the pieces of
// split tasks in two phases ('begin', then 'finish' for the same pieces; meta/split.ts).
import type { Config } from '../config';
import type { Episode } from '../data/types';
import type { StepMetrics } from '../meta/common';
import type { PieceUnit } from '../meta/split';
import type { ParamArray, ParamArrays } from '../model/params';
import type { ErrorReply } from './requestThread';

export type ThreadRequest =
  | {
      type: 'run';
      cfg: Config;
      params: ParamArrays;
      tasks: Episode[];
      step: number;
      /** Index of tasks[0] within the meta-batch (it seeds the task's randomness). */
      first: number;
    }
  | { type: 'begin'; cfg: Config; params: ParamArrays; units: PieceUnit[]; step: number }
  /** The coupling gradient of each piece of the last 'begin', in its order. */
  | { type: 'finish'; grads: ParamArray[] };

export type ThreadReply = { type: 'result'; gradSum: ParamArrays; metrics: StepMetrics[] } | { type: 'couplings'; couplings: ParamArray[] } | ErrorReply;
