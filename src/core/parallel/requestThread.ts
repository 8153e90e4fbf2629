// A worker_thread with its own tfjs that answers one request at a time, both sides of it: the
// task threads of a meta-batch (threadExecutor.ts) and the evaluation threads (eval/threads.ts)
// talk this way. A request that fails on the thread comes back as an ErrorReply and rejects the
// caller's promise (as a UserError when it was one); a thread that dies rejects what it was doing
// and every later request.
import { parentPort, Worker, workerData } from 'worker_threads';
import { BackendChoice, initBackend } from '../backend';
import { isUserError, UserError } from '../errors';

/** How a thread says that a request failed. */
export interface ErrorReply {
  type: 'error';
  message: string;
  userError: boolean;
}

interface Pending<R> {
  resolve: (r: R) => void;
  reject: (e: Error) => void;
}

/** The calling side: `script` is the thread's entry file, started on `backend`; `what` names it in errors. */
export class RequestThread<Req, Reply extends { type: string }> {
  private readonly worker: Worker;
  private pending: Pending<Exclude<Reply, ErrorReply>> | undefined;
  private failure: Error | undefined;

  constructor(script: string, backend: string, what: string) {
    this.worker = new Worker(script, { workerData: { backend } });
    this.worker.on('message', (m: Reply | ErrorReply) => {
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (isErrorReply(m)) p.reject(m.userError ? new UserError(m.message) : new Error(m.message));
      else p.resolve(m as Exclude<Reply, ErrorReply>);
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.pending?.reject(e);
      this.pending = undefined;
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`${what} exited with code ${code}`)));
  }

  request(req: Req): Promise<Exclude<Reply, ErrorReply>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(req);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

function isErrorReply(m: { type: string }): m is ErrorReply {
  return m.type === 'error';
}

/**
 * The thread's side, called once by its entry file: initialises the backend the caller named, then
 * answers each request with `handle`'s reply, or an ErrorReply when it throws.
 */
export function serveRequests<Req, Reply>(handle: (req: Req) => Reply | Promise<Reply>): void {
  const ready = initBackend(workerData.backend as BackendChoice);
  parentPort!.on('message', async (req: Req) => {
    let reply: Reply | ErrorReply;
    try {
      await ready;
      reply = await handle(req);
    } catch (e) {
      reply = { type: 'error', message: isUserError(e) ? (e as Error).message : String((e as Error)?.stack ?? e), userError: isUserError(e) };
    }
    parentPort!.postMessage(reply);
  });
}
