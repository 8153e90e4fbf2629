// CodeLens on config files (*.robust-meta.json, robust-meta.config.json): the latest run trained
// with the file, live (it follows the tree's refreshes), with a click to its dashboard; and
// "Start Training" when there is none yet.
import * as vscode from 'vscode';
import { readRunConfig } from '../runner/runStore';
import { recentMean } from './chartData';
import { configMatchesRun, latestRun, lensTitle, type LensRun } from './configLensModel';
import type { ExperimentsTree } from './experimentsTree';
import { readEvalResult, readMetricsFrom, type RunEntry } from './runFolder';

function lensRun(r: RunEntry): LensRun {
  const newest = r.results[r.results.length - 1];
  const m = newest ? readEvalResult(newest.path).result?.models[0] : undefined;
  if (m && m.clean.mean !== null && m.robust.mean !== null) {
    return { ...pick(r), clean: 100 * m.clean.mean, robust: 100 * m.robust.mean, source: 'evaluation' };
  }
  const lines = readMetricsFrom(r.dir).lines;
  const clean = recentMean(lines, (l) => l.cleanAcc);
  const robust = recentMean(lines, (l) => l.robustAcc);
  return {
    ...pick(r),
    clean: clean === null ? null : 100 * clean,
    robust: robust === null ? null : 100 * robust,
    source: clean === null ? 'none' : 'training',
  };
}

function pick(r: RunEntry): Omit<LensRun, 'clean' | 'robust' | 'source'> {
  return { id: r.id, dir: r.dir, method: r.method, state: r.state, step: r.step, totalSteps: r.totalSteps, createdAt: r.createdAt };
}

export class ConfigCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly tree: ExperimentsTree) {
    this.sub = tree.onDidChangeTreeData(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const range = new vscode.Range(0, 0, 0, 0);
    let values: Record<string, unknown>;
    try {
      const v = JSON.parse(doc.getText()) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return [];
      values = v as Record<string, unknown>;
    } catch {
      return []; // being edited: the JSON schema reports the syntax
    }
    const runs = this.tree.allRuns().filter((r) => {
      try {
        return configMatchesRun(values, readRunConfig(r.dir).config as unknown as Record<string, unknown>);
      } catch {
        return false; // an unreadable run folder shows in the tree with its problem
      }
    });
    const latest = latestRun(runs);
    if (!latest) return [new vscode.CodeLens(range, { title: 'no run yet · Start Training', command: 'robustMeta.startTraining', arguments: [doc.uri] })];
    return [new vscode.CodeLens(range, { title: lensTitle(lensRun(latest)), command: 'robustMeta.openDashboard', arguments: [latest.dir] })];
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
