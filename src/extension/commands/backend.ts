// Show Backend: probes which tfjs backend a run would use and logs the details.
import * as vscode from 'vscode';
import { formatBackendReport, probeBackend } from '../backendProbe';
import * as settings from '../settings';
import type { CommandContext } from './context';

export function registerBackendCommands(ctx: CommandContext): vscode.Disposable[] {
  return [ctx.register('robustMeta.showBackend', () => showBackend(ctx))];
}

async function showBackend(ctx: CommandContext): Promise<void> {
  const choice = settings.backendSetting();
  const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Robust Meta: probing tfjs backends' }, () =>
    probeBackend(choice),
  );
  const lines = formatBackendReport(report);
  for (const s of ctx.sessions.training()) lines.push(`Run ${s.id} in this window uses: ${s.backend ?? 'starting'}`);
  lines.forEach((l) => ctx.log.info(l));
  const show = 'Show Details';
  const text = report.selected
    ? `Robust Meta backend: ${report.selected.name} (setting: ${choice}).`
    : `Robust Meta: no backend loads for '${choice}': ${report.error}`;
  const pick = await (report.selected ? vscode.window.showInformationMessage(text, show) : vscode.window.showErrorMessage(text, show));
  if (pick === show) ctx.log.show();
}
