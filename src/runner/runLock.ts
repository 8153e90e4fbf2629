// One writer per run folder: a trainer (the CLI's train, a worker) holds runs/<id>/train.lock
// while it writes the run. The lock names its process by pid, start time and host, so a lock left
// by a killed process is recognised as stale (that pid is gone, or now belongs to a process that
// started at another time) and taken over, and so the lock is also the proof that a pid found in
// a run folder is really the run's own process before anything signals it (status.json alone is
// a file anyone could have written).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../core/atomicFile';
import { UserError } from '../core/errors';
import { RunLockSchema, type RunLockInfo } from '../formats/run';
import { checkWithDefaults } from '../formats/validate';

export const LOCK_FILE = 'train.lock';

export type { RunLockInfo };

/** The start time of a process, from /proc/<pid>/stat (Linux); undefined where it cannot be read. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // starttime is field 22 of the line; the first field after the name is field 3.
    const start = fields[22 - 3];
    return start && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** A pid that can safely be signalled: a positive whole number (0 and negatives address process groups). */
export function isSignallablePid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0;
}

/** Whether a process with this id exists on this machine. */
export function processAlive(pid: unknown): boolean {
  if (!isSignallablePid(pid)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockPath(runDir: string): string {
  return path.join(runDir, LOCK_FILE);
}

/** The lock's content, or undefined when there is none; a file that is not a lock reads as `damaged`. */
function readLock(runDir: string): RunLockInfo | 'damaged' | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockPath(runDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'damaged';
  }
  try {
    const v = checkWithDefaults(RunLockSchema, JSON.parse(text), lockPath(runDir));
    return isSignallablePid(v.pid) ? v : 'damaged';
  } catch {
    return 'damaged';
  }
}

/**
 * What a lock says about its holder: 'live' (this machine, the same process still runs: pid alive
 * and, where the system tells, the same start time), 'dead' (the holder is gone: the lock is
 * stale), 'elsewhere' (another machine's, which cannot be checked from here).
 */
export function holderState(lock: RunLockInfo): 'live' | 'dead' | 'elsewhere' {
  if (lock.hostname !== os.hostname()) return 'elsewhere';
  if (!processAlive(lock.pid)) return 'dead';
  const now = processStartTime(lock.pid);
  if (lock.startTime !== null && now !== undefined && now !== lock.startTime) return 'dead';
  return 'live';
}

/**
 * The process that trains a run now, verified: the lock's pid when its holder is live on this
 * machine. Undefined when no process holds the run (no lock, a stale or damaged one, or another
 * machine's). This is the only pid that may be signalled on behalf of a run.
 */
export function runOwner(runDir: string): RunLockInfo | undefined {
  const lock = readLock(runDir);
  return lock && lock !== 'damaged' && holderState(lock) === 'live' ? lock : undefined;
}

/** Whether some process, here or on another machine, holds the run's lock (for "is it running?"). */
export function runLocked(runDir: string): boolean {
  const lock = readLock(runDir);
  return lock !== undefined && lock !== 'damaged' && holderState(lock) !== 'dead';
}

export interface RunLock {
  readonly runDir: string;
  readonly info: RunLockInfo;
  /** Removes the lock if it is still this process's. Also done at process exit. */
  release(): void;
}

function sameHolder(a: RunLockInfo, b: RunLockInfo): boolean {
  return a.pid === b.pid && a.startTime === b.startTime && a.hostname === b.hostname && a.since === b.since;
}

/**
 * Takes the run's lock for this process, or throws a UserError that names the process holding it.
 * A stale lock (its process gone) or a damaged one is replaced. Locks are created atomically and
 * exclusively, so of two trainers starting at once exactly one gets the run.
 */
export function acquireRunLock(runDir: string): RunLock {
  const file = lockPath(runDir);
  const info: RunLockInfo = { pid: process.pid, startTime: processStartTime(process.pid) ?? null, hostname: os.hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileAtomic(file, JSON.stringify(info) + '\n', { exclusive: true });
      return holding(runDir, info);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const held = readLock(runDir);
    if (held === undefined) continue;
    if (held !== 'damaged') {
      const state = holderState(held);
      if (state === 'live') {
        throw new UserError(
          `${runDir} is being trained by another process (pid ${held.pid}, since ${held.since}): one run folder has one writer. Stop that run first (Ctrl-C in its terminal, or Stop Training in VS Code), or wait for it to end`,
        );
      }
      if (state === 'elsewhere') {
        throw new UserError(
          `${runDir} is being trained on another machine (${held.hostname}, pid ${held.pid}, since ${held.since}); if that process no longer runs, delete ${file} and try again`,
        );
      }
    }
    removeIfUnchanged(file, held);
  }
  throw new UserError(`could not take the lock ${file}: other processes keep replacing it; make sure only one trainer uses ${runDir}`);
}

/**
 * Removes a stale lock, but only the one that was judged stale: it is first renamed away (atomic),
 * and put back if what was renamed turns out to be a lock another process has just taken.
 */
function removeIfUnchanged(file: string, judged: RunLockInfo | 'damaged'): void {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return;
  }
  let replaced = false;
  try {
    const v = checkWithDefaults(RunLockSchema, JSON.parse(fs.readFileSync(aside, 'utf8')), aside);
    replaced = isSignallablePid(v.pid) && (judged === 'damaged' || !sameHolder(v, judged)) && holderState(v) === 'live';
  } catch {
    // Unreadable or not JSON: it is the damaged lock that was judged.
  }
  if (replaced) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third process took the run meanwhile; the lock just moved aside was overtaken anyway.
    }
  }
  fs.rmSync(aside, { force: true });
}

function holding(runDir: string, info: RunLockInfo): RunLock {
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    const now = readLock(runDir);
    if (now && now !== 'damaged' && sameHolder(now, info)) fs.rmSync(lockPath(runDir), { force: true });
  };
  // A process that exits without reaching its finally (process.exit on a second Ctrl-C) still
  // frees the run; one that is killed leaves a lock whose pid is gone, which is stale.
  process.on('exit', release);
  return { runDir, info, release };
}
