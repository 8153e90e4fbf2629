// The status bar item of training sessions: step, ETA and backend of the newest one; a click
// opens its dashboard. Hidden when nothing trains in this window.
import * as vscode from 'vscode';
import { formatDuration } from '../formats/display';
import { Disposable } from './disposable';
import type { Sessions } from './sessions';

export class TrainingStatusBar extends Disposable {
  private readonly item = this.register(vscode.window.createStatusBarItem('robustMeta.training', vscode.StatusBarAlignment.Left, 10));

  constructor(private readonly sessions: Sessions) {
    super();
    this.item.name = 'Robust Meta Training';
    this.register(sessions.onDidChange(() => this.update()));
    this.update();
  }

  private update(): void {
    const live = this.sessions.training();
    if (!live.length) {
      this.item.hide();
      return;
    }
    const s = live[0];
    const p = s.progress;
    const step = p ? `${p.step}/${p.totalSteps}` : 'starting';
    const eta = p?.etaSeconds != null ? ` · ETA ${formatDuration(p.etaSeconds)}` : '';
    // 'webgpu (nvidia ampere, <driver>)' shows as 'webgpu (nvidia ampere)'; the tooltip has it all.
    const backend = s.backend ? ` · ${s.backend.replace(/,.*\)$/, ')')}` : '';
    const more = live.length > 1 ? ` (+${live.length - 1})` : '';
    const icon = s.phase === 'stopping' ? '$(debug-pause)' : '$(sync~spin)';
    this.item.text = `${icon} ${s.id.length > 24 ? 'run' : s.id} ${step}${eta}${backend}${more}`;
    this.item.tooltip = [
      `Robust Meta: ${s.phase === 'stopping' ? 'stopping (writing a checkpoint)' : 'training'} ${s.id}`,
      p ? `step ${p.step} of ${p.totalSteps}${p.msPerStep ? `, ${Math.round(p.msPerStep)} ms/step` : ''}` : 'starting the worker',
      s.backend ? `backend: ${s.backend}` : '',
      'Click to open the dashboard',
    ]
      .filter(Boolean)
      .join('\n');
    this.item.command = { command: 'robustMeta.openDashboard', title: 'Open Dashboard', arguments: [s.dir] };
    this.item.accessibilityInformation = { label: `Robust Meta training ${s.id}, step ${step}` };
    this.item.show();
  }
}
