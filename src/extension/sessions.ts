// Jobs this window runs in worker processes (training and evaluation): start, follow, stop, and
// on shutdown cancel and wait (bounded) for the checkpoint. All computing happens in the worker;
// the extension host only relays messages.
import * as path from 'path';
import * as vscode from 'vscode';
import type { Job, WorkerMessage } from '../runner/protocol';
import type { RunState } from '../runner/runFormat';
import { launchWorker, type WorkerHandle } from './workerAdapter';

export interface SessionProgress {
  step: number;
  totalSteps: number;
  etaSeconds: number | null;
  msPerStep: number;
  label?: string;
}

export type SessionPhase = 'starting' | 'running' | 'stopping' | 'ended';

export class Session {
  phase: SessionPhase = 'starting';
  progress: SessionProgress | undefined;
  backend: string | undefined;
  finalState: RunState | undefined;
  /** The message of an 'error' from the worker, for the user. */
  error: { message: string; userError: boolean } | undefined;
  readonly started = Date.now();
  private readonly handle: WorkerHandle;
  private readonly messageEmitter = new vscode.EventEmitter<WorkerMessage>();
  readonly onMessage = this.messageEmitter.event;
  readonly ended: Promise<RunState | undefined>;

  constructor(
    readonly job: Job,
    /** The run folder a train job writes; for eval, the folder of its result file. */
    readonly dir: string,
    log: vscode.LogOutputChannel,
    onChange: (s: Session) => void,
  ) {
    const name = job.kind === 'train' ? path.basename(dir) : `eval ${path.basename(job.kind === 'eval' ? job.args.out : dir)}`;
    this.handle = launchWorker(job, {
      onMessage: (msg) => {
        this.apply(msg, log, name);
        this.messageEmitter.fire(msg);
        onChange(this);
      },
      onOutput: (text) => log.info(`[${name}] ${text.trimEnd()}`),
    });
    this.ended = this.handle.finished.then(({ state, crashed, message }) => {
      this.phase = 'ended';
      this.finalState = state;
      if (crashed || (state === 'failed' && !this.error))
        this.error = { message: message ?? 'the worker failed; see the "Robust Meta" output', userError: false };
      log.info(`[${name}] ended: ${this.finalState}`);
      onChange(this);
      this.messageEmitter.dispose();
      return this.finalState;
    });
  }

  get kind(): Job['kind'] {
    return this.job.kind;
  }

  get id(): string {
    return path.basename(this.dir);
  }

  private apply(msg: WorkerMessage, log: vscode.LogOutputChannel, name: string): void {
    switch (msg.type) {
      case 'worker/ready':
        this.backend = msg.backend;
        log.info(`[${name}] worker ${msg.pid} ready on backend ${msg.backend}`);
        break;
      case 'run/started':
        if (this.phase === 'starting') this.phase = 'running';
        this.progress = { step: msg.step, totalSteps: msg.totalSteps, etaSeconds: null, msPerStep: 0 };
        break;
      case 'run/progress':
        if (this.phase === 'starting') this.phase = 'running';
        this.progress = { step: msg.step, totalSteps: msg.totalSteps, etaSeconds: msg.etaSeconds, msPerStep: msg.msPerStep, label: msg.label };
        break;
      case 'run/checkpoint':
        log.info(`[${name}] checkpoint at step ${msg.step}: ${msg.path}`);
        break;
      case 'log':
        if (msg.level === 'warn') log.warn(`[${name}] ${msg.message}`);
        else log.info(`[${name}] ${msg.message}`);
        break;
      case 'error':
        this.error = { message: msg.message, userError: msg.userError };
        log.error(`[${name}] ${msg.message}`);
        break;
      case 'job/done':
        this.finalState = msg.state;
        break;
      default:
        break;
    }
  }

  /** Asks the worker to stop after writing a checkpoint. */
  stop(): void {
    if (this.phase === 'ended') return;
    this.phase = 'stopping';
    this.handle.cancel();
  }

  /** Cancels and waits up to `ms` for the worker to end; kills it after that. */
  async shutdown(ms: number): Promise<void> {
    if (this.phase === 'ended') return;
    this.stop();
    const timedOut = await Promise.race([this.ended.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms).unref?.())]);
    if (timedOut) this.handle.kill();
  }
}

/** Every session of this window, keyed by folder; fires onDidChange on any progress. */
export class Sessions implements vscode.Disposable {
  private readonly byDir = new Map<string, Session>();
  private readonly changeEmitter = new vscode.EventEmitter<Session>();
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  start(job: Job, dir: string): Session {
    const key = path.resolve(dir);
    const existing = this.byDir.get(key);
    if (existing && existing.phase !== 'ended') throw new Error(`${key} is already being run by this window`);
    const s = new Session(job, key, this.log, (x) => this.changeEmitter.fire(x));
    this.byDir.set(key, s);
    void s.ended.then(() => {
      if (this.byDir.get(key) === s) this.byDir.delete(key);
      this.changeEmitter.fire(s);
    });
    this.changeEmitter.fire(s);
    return s;
  }

  get(dir: string): Session | undefined {
    return this.byDir.get(path.resolve(dir));
  }

  /** Live training sessions, newest first. */
  training(): Session[] {
    return [...this.byDir.values()].filter((s) => s.kind === 'train' && s.phase !== 'ended').sort((a, b) => b.started - a.started);
  }

  all(): Session[] {
    return [...this.byDir.values()];
  }

  /** Cancels every job and waits for their checkpoints, at most `ms` in all. */
  async shutdown(ms: number): Promise<void> {
    await Promise.all(this.all().map((s) => s.shutdown(ms)));
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
