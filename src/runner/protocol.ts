// The worker protocol's helpers for both sides: versioned message constructors and the guards
// that validate what arrives. The messages themselves are declared in src/formats/worker.ts.
import { Value } from '@sinclair/typebox/value';
import { EXIT_CODES, ParentMessage, ParentMessageSchema, WorkerMessage, WorkerMessageSchema, PROTOCOL_VERSION } from '../formats/worker';

export {
  EXIT_CODES,
  PARENT_MESSAGE_TYPES,
  PROTOCOL_VERSION,
  WORKER_MESSAGE_TYPES,
  type EvalJobArgs,
  type Job,
  type ParentMessage,
  type TrainJob,
  type WorkerEvent,
  type WorkerMessage,
} from '../formats/worker';

/** Marks the workerData of a worker thread (client.ts starts it, worker.ts recognises it). */
export const WORKER_THREAD_TAG = 'robust-meta-worker-thread';

/** The exit code of a process that stopped cleanly because of `sig`. */
export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return Value.Check(WorkerMessageSchema, m);
}

export function isParentMessage(m: unknown): m is ParentMessage {
  return Value.Check(ParentMessageSchema, m);
}

/** Messages without their version field, as senders write them. */
type Unversioned<T> = T extends { v: number } ? Omit<T, 'v'> : never;
export type WorkerMessageBody = Unversioned<WorkerMessage>;
export type ParentMessageBody = Unversioned<ParentMessage>;

export function workerMessage(m: WorkerMessageBody): WorkerMessage {
  return { v: PROTOCOL_VERSION, ...m } as WorkerMessage;
}

export function parentMessage(m: ParentMessageBody): ParentMessage {
  return { v: PROTOCOL_VERSION, ...m } as ParentMessage;
}
