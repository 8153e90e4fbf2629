// Every message between the extension host and its panels (webviews), declared once, by
// direction, and shared by both sides (the webview bundle imports this file). Also the state a
// panel persists for its serializer. No vscode, Node or DOM import. Names follow '<area>/<event>'.
//
// The host never trusts what a webview sends: parseViewMessage() validates every message, and a
// webview never names a file path, only ids the host looks up in its own run folder.
import type { MetricLine, RunState } from '../runner/runFormat';
import type { EvalResultFile } from '../core/evalResult';
import type { DatasetSummary } from './datasetSummary';
import type { ExperimentView, ExportFormat } from './experimentView';

export const WEBVIEW_PROTOCOL_VERSION = 1;

export type PanelKind = 'dashboard' | 'result' | 'compare' | 'dataset' | 'experiment';

/** What a panel persists (vscode.setState) and its serializer revives from. */
export type PanelState =
  | { kind: 'dashboard'; runDir: string }
  | { kind: 'result'; file: string }
  | { kind: 'compare'; runDirs: string[]; resultFiles: string[] }
  | { kind: 'dataset'; dir: string }
  | { kind: 'experiment'; spec: string };

/** A run's header line on the dashboard. */
export interface RunView {
  id: string;
  method: string;
  state: RunState;
  interrupted: boolean;
  step: number;
  totalSteps: number;
  backend?: string;
  etaSeconds?: number | null;
  msPerStep?: number;
  message?: string;
  /** Whether this window's worker runs it (so it can be stopped from here). */
  ownedHere: boolean;
  /** Whether it can be resumed (stopped or failed, with a checkpoint). */
  resumable: boolean;
}

/** A sample image triple, with webview URIs in place of file names. */
export interface SampleView {
  clean: string;
  perturbation: string;
  adversarial: string;
  trueLabel: string;
  cleanPred: string;
  adversarialPred: string;
}

export interface SampleSetView {
  step: number;
  eps: number;
  amplification: number;
  images: SampleView[];
}

export interface ResultView {
  /** Id for 'result/open': the file name without .json inside the run's results/. */
  name: string;
  /** Shown above the table, e.g. the run id and file name. */
  label: string;
  result: EvalResultFile;
  /** Samples of each model (same order as result.models), as webview URIs. */
  samples: SampleView[][];
}

export interface CompareRunView {
  run: RunView;
  metrics: MetricLine[];
}

/** Host -> webview. */
export type HostMessage =
  | { type: 'panel/state'; state: PanelState }
  | { type: 'dashboard/init'; run: RunView; metrics: MetricLine[]; samples: SampleSetView | null; results: ResultView[] }
  /** New metric lines; `reset` replaces all lines (the file was rewritten). */
  | { type: 'dashboard/metrics'; metrics: MetricLine[]; reset?: boolean }
  | { type: 'dashboard/run'; run: RunView }
  | { type: 'dashboard/samples'; samples: SampleSetView }
  | { type: 'dashboard/results'; results: ResultView[] }
  | { type: 'result/init'; title: string; result: ResultView }
  | { type: 'compare/init'; runs: CompareRunView[]; results: ResultView[] }
  /** Preview Dataset: the summary and, per class (by index), a few sample images as PNG data URLs. */
  | { type: 'dataset/init'; summary: DatasetSummary; samples: string[][] }
  | { type: 'experiment/update'; view: ExperimentView }
  | { type: 'panel/error'; message: string };

/** Webview -> host. */
export type ViewMessage =
  | { type: 'view/ready'; kind: PanelKind }
  | { type: 'run/stop' }
  | { type: 'run/resume' }
  | { type: 'run/evaluate' }
  /** Opens one of the run's results (by name) in a result panel. */
  | { type: 'result/open'; name: string }
  | { type: 'chart/save'; name: string; png: string }
  | { type: 'experiment/export'; format: ExportFormat }
  | { type: 'experiment/openRun'; name: string };

export type ViewMessageType = ViewMessage['type'];

const PANEL_KINDS: readonly PanelKind[] = ['dashboard', 'result', 'compare', 'dataset', 'experiment'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$/;

/** Validates a message from a webview; anything else (wrong shape, unknown type) is undefined. */
export function parseViewMessage(m: unknown): ViewMessage | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'view/ready':
      return PANEL_KINDS.includes(o.kind as PanelKind) ? { type: 'view/ready', kind: o.kind as PanelKind } : undefined;
    case 'run/stop':
    case 'run/resume':
    case 'run/evaluate':
      return { type: o.type };
    case 'result/open':
      return typeof o.name === 'string' && NAME_RE.test(o.name) && !o.name.includes('..') ? { type: 'result/open', name: o.name } : undefined;
    case 'experiment/export':
      return o.format === 'markdown' || o.format === 'csv' || o.format === 'latex' ? { type: 'experiment/export', format: o.format } : undefined;
    case 'experiment/openRun':
      return typeof o.name === 'string' && NAME_RE.test(o.name) && !o.name.includes('..') ? { type: 'experiment/openRun', name: o.name } : undefined;
    case 'chart/save':
      return typeof o.name === 'string' && NAME_RE.test(o.name) && !o.name.includes('..') && typeof o.png === 'string' && o.png.startsWith(PNG_PREFIX) && o.png.length <= MAX_PNG_CHARS
        ? { type: 'chart/save', name: o.name, png: o.png }
        : undefined;
    default:
      return undefined;
  }
}

export const PNG_PREFIX = 'data:image/png;base64,';
/** A chart's PNG is a few hundred kB; anything far larger is not one. */
const MAX_PNG_CHARS = 32 * 1024 * 1024;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates persisted panel state (it comes back from the webview on revive). */
export function parsePanelState(s: unknown): PanelState | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  const o = s as Record<string, unknown>;
  if (o.kind === 'dashboard' && typeof o.runDir === 'string') return { kind: 'dashboard', runDir: o.runDir };
  if (o.kind === 'result' && typeof o.file === 'string') return { kind: 'result', file: o.file };
  if (o.kind === 'dataset' && typeof o.dir === 'string') return { kind: 'dataset', dir: o.dir };
  if (o.kind === 'experiment' && typeof o.spec === 'string') return { kind: 'experiment', spec: o.spec };
  if (o.kind === 'compare' && isStringArray(o.runDirs) && isStringArray(o.resultFiles)) {
    return { kind: 'compare', runDirs: o.runDirs, resultFiles: o.resultFiles };
  }
  return undefined;
}

/** The handlers a panel gives for the messages it accepts; a missing handler ignores the message. */
export type ViewHandlers = { [T in ViewMessageType]?: (msg: Extract<ViewMessage, { type: T }>) => void | Promise<void> };

/**
 * Validates a raw webview message and calls its handler. Returns what happened, for logging:
 * 'handled', 'ignored' (valid, no handler) or 'invalid'.
 */
export async function dispatchViewMessage(raw: unknown, handlers: ViewHandlers): Promise<'handled' | 'ignored' | 'invalid'> {
  const msg = parseViewMessage(raw);
  if (!msg) return 'invalid';
  const h = handlers[msg.type] as ((m: ViewMessage) => void | Promise<void>) | undefined;
  if (!h) return 'ignored';
  await h(msg);
  return 'handled';
}
