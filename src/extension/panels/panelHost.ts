// What panels need from the rest of the extension, passed in so that panels do not reach for
// globals: where things are, the sessions, and the actions their buttons trigger.
import type * as vscode from 'vscode';
import type { Sessions } from '../sessions';

export interface PanelActions {
  stop(runDir: string): void | Promise<void>;
  resume(runDir: string): void | Promise<void>;
  evaluate(runDir: string): void | Promise<void>;
  openResult(file: string): void | Promise<void>;
}

export interface PanelHost {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  sessions: Sessions;
  actions: PanelActions;
  /** Folders whose files panels may show: the runs folder and the workspace folders. */
  allowedRoots(): string[];
}
