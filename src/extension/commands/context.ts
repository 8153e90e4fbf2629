// What every feature's commands share: the extension's services, the argument forms a command
// receives (a tree node, a Uri, a path), the path checks, the trust gate, and registration with
// one error report. Each feature module registers its own commands with `register`.
import * as path from 'path';
import * as vscode from 'vscode';
import { isUserError } from '../../core/errors';
import type { Job } from '../../runner/protocol';
import type { ExperimentsTree } from '../experimentsTree';
import type { PanelHost } from '../panels/panelHost';
import { isInsideAny } from '../paths';
import type { RunEntry } from '../runFolder';
import type { Session, Sessions } from '../sessions';
import * as settings from '../settings';
import type { TreeNode } from '../treeModel';

export type Arg = TreeNode | vscode.Uri | string | undefined;

export function isNode(a: unknown): a is TreeNode {
  return typeof a === 'object' && a !== null && 'kind' in a && 'run' in a;
}

/** The run folder named by a command argument: a tree node, a path, or a Uri. */
export function runDirOf(a: Arg): string | undefined {
  if (isNode(a)) return a.run.dir;
  if (a instanceof vscode.Uri) return a.fsPath;
  return typeof a === 'string' ? a : undefined;
}

function errorText(e: unknown): string {
  return isUserError(e) ? e.message : `${(e as Error).message ?? e}`;
}

export class CommandContext {
  private readonly endListeners: ((s: Session) => void)[] = [];

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly tree: ExperimentsTree,
    readonly sessions: Sessions,
    readonly host: PanelHost,
    readonly log: vscode.LogOutputChannel,
  ) {}

  /** Registers a command whose errors are logged and shown as one message (a UserError's text as is). */
  register(id: string, fn: (...args: never[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, async (...args: never[]) => {
      try {
        await fn(...args);
      } catch (e) {
        this.log.error(`${id}: ${(e as Error).stack ?? e}`);
        void vscode.window.showErrorMessage(`Robust Meta: ${errorText(e)}`);
      }
    });
  }

  runsFolder(): string {
    return settings.runsFolder(this.extension.globalStorageUri);
  }

  /** Folders whose files may be read on a path's say-so: the workspace folders and the runs folder. */
  allowedRoots(): string[] {
    return [...settings.workspaceRoots(), this.runsFolder()];
  }

  bundledData(name: string): string {
    return vscode.Uri.joinPath(this.extension.extensionUri, 'data', name).fsPath;
  }

  /** Training and evaluation run code from the workspace's configs: not in an untrusted one. */
  async requireTrust(what: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const manage = 'Manage Workspace Trust';
    const pick = await vscode.window.showWarningMessage(
      `Robust Meta: ${what} is disabled in Restricted Mode. Training and evaluation read config files and data from this workspace and run for a long time in a worker process; trust the workspace to enable them. Runs already on disk can still be browsed.`,
      manage,
    );
    if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }

  checkedRunDir(dir: string): string {
    const full = path.resolve(dir);
    if (!isInsideAny(this.allowedRoots(), full)) throw new Error(`${full} is outside the workspace and the runs folder`);
    return full;
  }

  /** `fn` hears of each job this window starts, when it ends (each feature reports its own kind). */
  onJobEnd(fn: (s: Session) => void): void {
    this.endListeners.push(fn);
  }

  startJob(job: Job, key: string): Session {
    const s = this.sessions.start(job, key);
    void s.ended.then(() => this.endListeners.forEach((fn) => fn(s)));
    return s;
  }

  /** A run picked from the tree's runs that pass `filter`; one candidate is taken without asking. */
  async pickRun(title: string, filter: (r: RunEntry) => boolean, none: string): Promise<RunEntry | undefined> {
    this.tree.refresh();
    const runs = this.tree.allRuns().filter(filter);
    if (!runs.length) {
      void vscode.window.showInformationMessage(`Robust Meta: ${none}`);
      return undefined;
    }
    if (runs.length === 1) return runs[0];
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.id, description: `${r.method} · ${r.state} · step ${r.step}/${r.totalSteps}`, run: r })),
      { title },
    );
    return pick?.run;
  }
}
