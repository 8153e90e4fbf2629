// The extension's settings (contributes.configuration in package.json), read in one place.
import * as path from 'path';
import * as vscode from 'vscode';
import { CONFIG_FIELDS, METHODS, type Config, type MethodName } from '../core/config';

// Not from core/backend: that module loads tfjs, which the extension host never does.
type BackendChoice = Config['backend'];
const BACKEND_CHOICES: readonly string[] = CONFIG_FIELDS.backend.enum;

export const SECTION = 'robustMeta';

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

/** The first workspace folder's path, if a folder is open. */
export function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export function workspaceRoots(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * The runs folder: robustMeta.runsFolder, absolute or relative to the first workspace folder.
 * Without a workspace folder, a relative setting falls back to the extension's global storage.
 */
export function runsFolder(globalStorage: vscode.Uri): string {
  const value = (cfg().get<string>('runsFolder') ?? 'runs').trim() || 'runs';
  if (path.isAbsolute(value)) return path.normalize(value);
  const root = workspaceRoot();
  return root ? path.resolve(root, value) : path.join(globalStorage.fsPath, value);
}

export function backendSetting(): BackendChoice {
  const v = cfg().get<string>('backend') ?? 'auto';
  return BACKEND_CHOICES.includes(v) ? (v as BackendChoice) : 'auto';
}

/** robustMeta.nodePath: the Node.js that runs workers whose backend cannot run under Electron; '' for node on PATH. */
export function nodePathSetting(): string {
  return (cfg().get<string>('nodePath') ?? '').trim();
}

export function defaultMethod(): MethodName {
  const v = cfg().get<string>('defaultMethod') ?? 'mavrl';
  return (METHODS as readonly string[]).includes(v) ? (v as MethodName) : 'mavrl';
}

/** robustMeta.defaultConfig: a config file path (relative to the first workspace folder), or ''. */
export function defaultConfigPath(): string | undefined {
  const v = (cfg().get<string>('defaultConfig') ?? '').trim();
  if (!v) return undefined;
  const root = workspaceRoot();
  return path.isAbsolute(v) ? v : root ? path.resolve(root, v) : undefined;
}

export function affectsRunsFolder(e: vscode.ConfigurationChangeEvent): boolean {
  return e.affectsConfiguration(`${SECTION}.runsFolder`);
}
