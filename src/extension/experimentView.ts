// What the experiment panel receives: declared apart from experimentModel.ts (which reaches the
// engine's modules) so that the webview's types stay free of it.
export type JobState = 'pending' | 'running' | 'done' | 'stopped' | 'failed';
export type ExportFormat = 'markdown' | 'csv' | 'latex';

export interface GridCell {
  state: JobState | 'none';
  /** 0..1 */
  progress: number;
  text: string;
  runDir?: string;
}

export interface GridRow {
  method: string;
  seed: number;
  /** The validated value, for the seed method's validation runs. */
  value?: number;
  name: string;
  training: GridCell;
  validation: GridCell;
  evaluation: GridCell;
}

export interface ExperimentProgress {
  state: 'not started' | 'running' | 'stopped' | 'done';
  done: number;
  total: number;
  etaSeconds: number | null;
}

export interface TableRow {
  setting: string;
  /** 'mavrl', or 'mavrl (prototype head)' for the frozen-encoder head. */
  method: string;
  seeds: number;
  /** Percent, mean over seeds, and the 95% half-width (the larger of seeds and episodes). */
  clean: { mean: number; ci: number };
  robust: { mean: number; ci: number };
  /** Diagnostics: at chance or collapsed in any seed. */
  flagged: boolean;
}

export interface SettingSummary {
  setting: string;
  /** The pre-registered rule's verdict, in plain text. */
  verdict: string;
  /** 'robust: a − b = +3.1 [+1.0, +5.2] points' per paired comparison. */
  differences: string[];
  /** Diagnostics and gradient-masking checks that did not pass. */
  warnings: string[];
  /** Robust accuracy over eps (×1/255) per method (mean over seeds, percent), when the setting has a curve. */
  curves: { label: string; points: { x: number; y: number }[] }[];
}

export interface ResultsTable {
  rows: TableRow[];
  settings: SettingSummary[];
}

export interface ExperimentView {
  name: string;
  spec: string;
  progress: ExperimentProgress;
  grid: GridRow[];
  table: ResultsTable;
}
