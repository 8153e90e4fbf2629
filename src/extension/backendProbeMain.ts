// Child process of "Show Backend" (see backendProbe.ts): initialises the backend a run would get
// and sends back what it found, then exits.
import { initBackend, probeBackends, type BackendChoice } from '../core/backend';
import { adapterLabel } from '../core/webgpu';
import type { BackendReport } from './backendProbe';

async function main(): Promise<void> {
  const choice = (process.argv[2] ?? 'auto') as BackendChoice;
  const report: BackendReport = { choice, probes: [] };
  try {
    const info = await initBackend(choice);
    report.selected = {
      name: info.name,
      tfjsVersion: info.tfjsVersion,
      simd: info.simd,
      threads: info.threads,
      adapter: info.adapter ? adapterLabel(info.adapter) : undefined,
    };
    report.probes = info.probes;
  } catch (e) {
    report.error = (e as Error).message;
    report.probes = probeBackends();
  }
  process.send?.(report, () => process.exit(0));
}

void main();
