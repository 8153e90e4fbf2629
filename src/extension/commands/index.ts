// The extension's commands (package.json contributes.commands), registered per feature as GitLens
// does: each feature module registers its own. Each asks only for what it cannot default, through
// quick picks and input boxes; every path from outside (a config file, a webview, a revived panel)
// is checked to stay inside the workspace, the runs folder or a folder the user picked. Nothing
// here computes: jobs go to worker processes through Sessions.
import type * as vscode from 'vscode';
import { registerBackendCommands } from './backend';
import { registerConfigCommands } from './config';
import { registerDatasetCommands } from './dataset';
import type { CommandContext } from './context';
import { registerEvaluationCommands } from './evaluation';
import { registerExperimentCommands } from './experiment';
import { registerPanelCommands } from './panels';
import { registerTrainingCommands } from './training';

export { CommandContext } from './context';

/** Milliseconds deactivate() waits for workers to write their checkpoints. */
export const SHUTDOWN_WAIT_MS = 8000;

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    ...registerConfigCommands(ctx),
    ...registerTrainingCommands(ctx),
    ...registerEvaluationCommands(ctx),
    ...registerPanelCommands(ctx),
    ...registerDatasetCommands(ctx),
    ...registerExperimentCommands(ctx),
    ...registerBackendCommands(ctx),
  ];
}
