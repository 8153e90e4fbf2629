// Messages between the ThreadExecutor and its task threads.
import type { Config } from '../config';
import type { Episode } from '../data/types';
import type { StepMetrics } from '../meta/common';
import type { ParamArrays } from '../model/params';
import type { ErrorReply } from './requestThread';

export interface ThreadRequest {
  type: 'run';
  cfg: Config;
  params: ParamArrays;
  tasks: Episode[];
  step: number;
  /** Index of tasks[0] within the meta-batch (it seeds the task's randomness). */
  first: number;
}

export type ThreadReply = { type: 'result'; gradSum: ParamArrays; metrics: StepMetrics[] } | ErrorReply;
