// The CodeLens over a config file: the latest run trained with it, its state and figures
// ("mavrl · done · clean 48.8 / robust 12.0"). Runs do not record their config file, so a run
// belongs to a file when its config.json has every value the file sets (paths excepted: the
// extension and the CLI resolve `data` differently). Pure: no vscode, no fs.

/** Keys whose values are paths or machine choices, resolved differently by each starter. */
const IGNORED = new Set(['data', 'backend', 'workers', '$schema', '$comment']);

export function configMatchesRun(fileValues: Record<string, unknown>, runConfig: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(fileValues)) {
    if (IGNORED.has(k)) continue;
    if (JSON.stringify(runConfig[k]) !== JSON.stringify(v)) return false;
  }
  return true;
}

export interface LensRun {
  id: string;
  dir: string;
  method: string;
  state: string;
  step: number;
  totalSteps: number;
  createdAt?: string;
  /** Percent, from the newest evaluation result, else the training's recent means. */
  clean: number | null;
  robust: number | null;
  /** Where the figures come from. */
  source: 'evaluation' | 'training' | 'none';
}

/** The newest run (by creation time, else id) among those matching. */
export function latestRun<T extends { id: string; createdAt?: string }>(runs: readonly T[]): T | undefined {
  return [...runs].sort((a, b) => (b.createdAt ?? b.id).localeCompare(a.createdAt ?? a.id))[0];
}

export function lensTitle(r: LensRun): string {
  const state = r.state === 'running' && r.totalSteps ? `running ${r.step}/${r.totalSteps}` : r.state;
  const figs =
    r.clean !== null && r.robust !== null ? ` · ${r.source === 'training' ? 'train ' : ''}clean ${r.clean.toFixed(1)} / robust ${r.robust.toFixed(1)}` : '';
  return `${r.method} · ${state}${figs} · open dashboard`;
}
