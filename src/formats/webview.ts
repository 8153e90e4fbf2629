// Every message between the extension host and its panels (webviews), declared once, by
// direction, and shared by both sides (the webview bundle imports this file). Also the state a
// panel persists for its serializer. No vscode, Node or DOM import. Names follow '<area>/<event>'.
//
// The host never trusts what a webview sends: parseViewMessage() validates every message against
// its declaration, and a webview never names a file path, only ids the host looks up in its own
// run folder.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { EvalResultFileSchema } from './evalResult';
import { MetricLineOnDisk, RunStateSchema, SampleImageSchema } from './run';
import type { DatasetSummary } from '../extension/datasetSummary';
import type { ExperimentView } from '../extension/experimentView';

export const WEBVIEW_PROTOCOL_VERSION = 1;

const PANEL_KINDS = ['dashboard', 'result', 'compare', 'dataset', 'experiment'] as const;
export const PanelKindSchema = Type.Union(PANEL_KINDS.map((k) => Type.Literal(k)));
export type PanelKind = Static<typeof PanelKindSchema>;

/** What a panel persists (vscode.setState) and its serializer revives from. */
export const PanelStateSchema = Type.Union([
  Type.Object({ kind: Type.Literal('dashboard'), runDir: Type.String() }),
  Type.Object({ kind: Type.Literal('result'), file: Type.String() }),
  Type.Object({ kind: Type.Literal('compare'), runDirs: Type.Array(Type.String()), resultFiles: Type.Array(Type.String()) }),
  Type.Object({ kind: Type.Literal('dataset'), dir: Type.String() }),
  Type.Object({ kind: Type.Literal('experiment'), spec: Type.String() }),
]);
export type PanelState = Static<typeof PanelStateSchema>;

/** A run's header line on the dashboard. */
export const RunViewSchema = Type.Object({
  id: Type.String(),
  method: Type.String(),
  state: RunStateSchema,
  interrupted: Type.Boolean(),
  step: Type.Integer(),
  totalSteps: Type.Integer(),
  backend: Type.Optional(Type.String()),
  etaSeconds: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  msPerStep: Type.Optional(Type.Number()),
  message: Type.Optional(Type.String()),
  /** Whether this window's worker runs it (so it can be stopped from here). */
  ownedHere: Type.Boolean(),
  /** Whether it can be resumed (stopped or failed, with a checkpoint). */
  resumable: Type.Boolean(),
});
export type RunView = Static<typeof RunViewSchema>;

/** A sample image triple (the one sample record), with webview URIs in place of file names. */
export type SampleView = Static<typeof SampleImageSchema>;

export const SampleSetViewSchema = Type.Object({
  step: Type.Integer(),
  eps: Type.Number(),
  amplification: Type.Number(),
  images: Type.Array(SampleImageSchema),
});
export type SampleSetView = Static<typeof SampleSetViewSchema>;

export const ResultViewSchema = Type.Object({
  /** Id for 'result/open': the file name without .json inside the run's results/. */
  name: Type.String(),
  /** Shown above the table, e.g. the run id and file name. */
  label: Type.String(),
  result: EvalResultFileSchema,
  /** Samples of each model (same order as result.models), as webview URIs. */
  samples: Type.Array(Type.Array(SampleImageSchema)),
});
export type ResultView = Static<typeof ResultViewSchema>;

const Metrics = Type.Array(MetricLineOnDisk);

export const CompareRunViewSchema = Type.Object({ run: RunViewSchema, metrics: Metrics });
export type CompareRunView = Static<typeof CompareRunViewSchema>;

/** Host -> webview. */
export const HostMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('panel/state'), state: PanelStateSchema }),
  Type.Object({
    type: Type.Literal('dashboard/init'),
    run: RunViewSchema,
    metrics: Metrics,
    samples: Type.Union([SampleSetViewSchema, Type.Null()]),
    results: Type.Array(ResultViewSchema),
  }),
  /** New metric lines; `reset` replaces all lines (the file was rewritten). */
  Type.Object({ type: Type.Literal('dashboard/metrics'), metrics: Metrics, reset: Type.Optional(Type.Boolean()) }),
  Type.Object({ type: Type.Literal('dashboard/run'), run: RunViewSchema }),
  Type.Object({ type: Type.Literal('dashboard/samples'), samples: SampleSetViewSchema }),
  Type.Object({ type: Type.Literal('dashboard/results'), results: Type.Array(ResultViewSchema) }),
  Type.Object({ type: Type.Literal('result/init'), title: Type.String(), result: ResultViewSchema }),
  Type.Object({ type: Type.Literal('compare/init'), runs: Type.Array(CompareRunViewSchema), results: Type.Array(ResultViewSchema) }),
  /** Preview Dataset: the summary (datasetSummary.ts) and, per class, sample images as PNG data URLs. */
  Type.Object({ type: Type.Literal('dataset/init'), summary: Type.Unsafe<DatasetSummary>({}), samples: Type.Array(Type.Array(Type.String())) }),
  /** The experiment panel's whole view (experimentView.ts), sent again when the folder changes. */
  Type.Object({ type: Type.Literal('experiment/update'), view: Type.Unsafe<ExperimentView>({}) }),
  Type.Object({ type: Type.Literal('panel/error'), message: Type.String() }),
]);
export type HostMessage = Static<typeof HostMessageSchema>;

export const PNG_PREFIX = 'data:image/png;base64,';
/** A chart's PNG is a few hundred kB; anything far larger is not one. */
const MAX_PNG_CHARS = 32 * 1024 * 1024;

/** A result's name as a webview may send it: a plain name, never a path. */
const ResultName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$' });

/** Webview -> host. */
export const ViewMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('view/ready'), kind: PanelKindSchema }),
  Type.Object({ type: Type.Literal('run/stop') }),
  Type.Object({ type: Type.Literal('run/resume') }),
  Type.Object({ type: Type.Literal('run/evaluate') }),
  /** Opens one of the run's results (by name) in a result panel. */
  Type.Object({ type: Type.Literal('result/open'), name: ResultName }),
  /** Save PNG on a chart: the image as a data URL, saved where the user picks. */
  Type.Object({ type: Type.Literal('chart/save'), name: ResultName, png: Type.String({ pattern: '^data:image/png;base64,', maxLength: MAX_PNG_CHARS }) }),
  Type.Object({ type: Type.Literal('experiment/export'), format: Type.Union([Type.Literal('markdown'), Type.Literal('csv'), Type.Literal('latex')]) }),
  /** Opens an experiment run's dashboard, by its run name. */
  Type.Object({ type: Type.Literal('experiment/openRun'), name: ResultName }),
]);
export type ViewMessage = Static<typeof ViewMessageSchema>;
export type ViewMessageType = ViewMessage['type'];

/** `v` when it matches `schema`, with only the declared properties (a copy); otherwise undefined. */
function parsed<T extends TSchema>(schema: T, v: unknown): Static<T> | undefined {
  return Value.Check(schema, v) ? (Value.Clean(schema, Value.Clone(v)) as Static<T>) : undefined;
}

/** Validates a message from a webview; anything else (wrong shape, unknown type) is undefined. */
export function parseViewMessage(m: unknown): ViewMessage | undefined {
  const msg = parsed(ViewMessageSchema, m);
  return msg && !('name' in msg && msg.name.includes('..')) ? msg : undefined;
}

/** Validates persisted panel state (it comes back from the webview on revive). */
export function parsePanelState(s: unknown): PanelState | undefined {
  return parsed(PanelStateSchema, s);
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
