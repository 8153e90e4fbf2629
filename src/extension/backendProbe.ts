// "Show Backend": which tfjs backends this machine can load, and which one a run would use. Asked
// of a short-lived child process (backendProbeMain.js), because loading tfjs and initialising a
// backend does not belong in the extension host.
import * as path from 'path';
import { askChild } from './childOnce';
import { forkOptionsFor } from './workerAdapter';

export interface BackendReport {
  choice: string;
  /** The backend a run with this choice would use, or why none loads. */
  selected?: { name: string; tfjsVersion: string; simd?: boolean; threads?: number; /** webgpu: the adapter, in one line. */ adapter?: string };
  error?: string;
  probes: { name: string; packageName: string; available: boolean; version?: string; reason?: string }[];
}

export function probeBackend(choice: string, timeoutMs = 60_000): Promise<BackendReport> {
  // On the runtime a worker for this choice would get, so that the answer is the run's.
  return askChild<BackendReport>(path.join(__dirname, 'backendProbeMain.js'), [choice], forkOptionsFor(choice), 'the backend probe', timeoutMs);
}

/** The report as lines for the output channel. */
export function formatBackendReport(r: BackendReport): string[] {
  const lines = [`Backend setting: ${r.choice}`];
  if (r.selected) {
    const extra =
      r.selected.name === 'wasm'
        ? ` (SIMD ${r.selected.simd ? 'on' : 'off'}, ${r.selected.threads ?? 1} thread(s))`
        : r.selected.adapter
          ? ` (${r.selected.adapter})`
          : '';
    lines.push(`A run would use: ${r.selected.name}${extra}, tfjs ${r.selected.tfjsVersion}`);
  } else lines.push(`No backend loads: ${r.error ?? 'unknown reason'}`);
  lines.push('Backends on this machine:');
  for (const p of r.probes)
    lines.push(`  ${p.available ? '✓' : '✗'} ${p.name.padEnd(15)} ${p.packageName}${p.version ? ` ${p.version}` : ''}${p.reason ? ` — ${p.reason}` : ''}`);
  return lines;
}
