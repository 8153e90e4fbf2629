// The experiment panel's view-models, from an experiment folder's facts: the grid of its jobs
// (method x seed x phase) with state and progress, the job counts and ETA, and, when results
// exist, the methods x settings table (clean and robust across seeds with 95% intervals, paired
// differences, the verdict, diagnostics, masking checks, both heads) and its curves; and the
// table's exports (Markdown, CSV, LaTeX). Pure: facts in, views out (experimentFolder.ts reads).
import type { EvalResultFile } from '../core/evalResult';
import { meaningful } from '../core/eval/diagnostics';
import { aggregate, claimVerdict, methodOf } from '../cli/resultsDoc';
import type { ExperimentSpec } from '../formats/experiment';
import { runName, type RunKey } from '../runner/experiment';
import type { ExperimentProgress, ExperimentView, ExportFormat, GridCell, GridRow, JobState, ResultsTable, SettingSummary, TableRow } from './experimentView';

export type { JobState };

/** What is on disk for one training job (runs/<name>.done.json, runs/<name>/<run id>/status.json). */
export interface TrainFacts {
  done: boolean;
  state?: JobState;
  step?: number;
  totalSteps?: number;
  runDir?: string;
}

export interface ExperimentFacts {
  name: string;
  specFile: string;
  outDir: string;
  spec: ExperimentSpec;
  /** By run name (runName). */
  train: Record<string, TrainFacts>;
  /** Result files by label without the -partN suffix, parts merged; 'validation' included. */
  results: Record<string, EvalResultFile>;
  /** Labels of the evaluation job files written (results/<label>.json), parts included. */
  evalFilesDone: string[];
  outcomeDone: boolean;
  /** When the first job started and now (ms since epoch), for the ETA. */
  startedAt?: number;
  now: number;
}

/** The evaluation settings the runner makes (without the strong attack, which is a check). */
export function evalSettings(spec: ExperimentSpec): string[] {
  return spec.eval.shots.flatMap((s) => [`unseen-${s}shot`, `source-${s}shot`]);
}

/** The training jobs the runner plans: validation runs of the seed method (first seed), the
 * baselines' seeds, the seed method's seeds (with the chosen value: unknown until validated, so
 * shown with the default). */
export function plannedRuns(spec: ExperimentSpec): { key: RunKey; validation: boolean }[] {
  const v = spec.validation;
  const out: { key: RunKey; validation: boolean }[] = [];
  for (const value of v.values) out.push({ key: { method: v.method, seed: spec.seeds[0], value }, validation: true });
  for (const m of spec.methods) for (const seed of spec.seeds) out.push({ key: { method: m, seed }, validation: false });
  return out;
}

function trainCell(f: TrainFacts | undefined): GridCell {
  if (!f) return { state: 'pending', progress: 0, text: 'pending' };
  if (f.done) return { state: 'done', progress: 1, text: 'done', runDir: f.runDir };
  const total = f.totalSteps ?? 0;
  const step = f.step ?? 0;
  const state = f.state ?? 'pending';
  return { state, progress: total ? step / total : 0, text: total ? `${state} ${step}/${total}` : state, runDir: f.runDir };
}

/** The job grid. A validation run whose value the runner maps to the default shares its run with
 * the seed method's first-seed main run: such rows are merged by run name. */
export function experimentGrid(f: ExperimentFacts): GridRow[] {
  const valKey = String(f.spec.validation.key);
  const settings = evalSettings(f.spec);
  const rows = new Map<string, GridRow>();
  for (const { key, validation } of plannedRuns(f.spec)) {
    // the runner names a validation run at the default value like the main run; the facts are
    // keyed by the names it wrote, so try both
    // and a main run of the seed method after the value validation chose, when not the default
    const chosen = Object.keys(f.train).filter((n) => n.startsWith(`${key.method}-seed${key.seed}-${valKey}`));
    const names = validation ? [runName(key, valKey), runName({ method: key.method, seed: key.seed }, valKey)] : [runName(key, valKey), ...chosen];
    const name = names.find((n) => f.train[n]) ?? names[0];
    if (rows.has(name)) continue;
    const inResults = (label: string) => f.results[label]?.models.some((m) => m.model === name || m.model.startsWith(`${name}[`)) ?? false;
    const evaluated = settings.filter(inResults).length;
    const validated = inResults('validation');
    rows.set(name, {
      method: key.method,
      seed: key.seed,
      value: key.value,
      name,
      training: trainCell(f.train[name]),
      validation:
        validation || validated
          ? { state: validated ? 'done' : 'pending', progress: validated ? 1 : 0, text: validated ? 'done' : 'pending' }
          : { state: 'none', progress: 0, text: '–' },
      evaluation: {
        state: evaluated === settings.length ? 'done' : evaluated ? 'running' : 'pending',
        progress: settings.length ? evaluated / settings.length : 0,
        text: `${evaluated}/${settings.length} settings`,
      },
    });
  }
  return [...rows.values()];
}

export function experimentProgress(f: ExperimentFacts, grid = experimentGrid(f)): ExperimentProgress {
  const evalTotal = 1 + (evalSettings(f.spec).length + 1) * Math.max(1, f.spec.parallel);
  const total = grid.length + evalTotal;
  const done = grid.filter((r) => r.training.state === 'done').length + Math.min(evalTotal, f.evalFilesDone.length);
  const anyRunning = grid.some((r) => r.training.state === 'running');
  const state = f.outcomeDone ? 'done' : anyRunning ? 'running' : done > 0 ? 'stopped' : 'not started';
  const etaSeconds = state === 'running' && f.startedAt !== undefined && done > 0 ? ((f.now - f.startedAt) / 1000 / done) * (total - done) : null;
  return { state, done: f.outcomeDone ? total : done, total, etaSeconds };
}

// ---------------------------------------------------------------------------------------------
// Results table

const pct = (x: number) => 100 * x;

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
}

export function resultsTable(results: Record<string, EvalResultFile>, settings: string[]): ResultsTable {
  const rows: TableRow[] = [];
  const summaries: SettingSummary[] = [];
  for (const setting of settings) {
    const r = results[setting];
    if (!r) continue;
    const byMethod = new Map<string, typeof r.models>();
    for (const m of r.models) byMethod.set(methodOf(m.model), [...(byMethod.get(methodOf(m.model)) ?? []), m]);
    const curves: SettingSummary['curves'] = [];
    for (const [method, models] of byMethod) {
      const c = aggregate(
        method,
        models.map((m) => m.clean),
      );
      const rb = aggregate(
        method,
        models.map((m) => m.robust),
      );
      rows.push({
        setting,
        method,
        seeds: models.length,
        clean: { mean: pct(c.mean), ci: pct(Math.max(c.ciSeeds, c.ciEpisodes)) },
        robust: { mean: pct(rb.mean), ci: pct(Math.max(rb.ciSeeds, rb.ciEpisodes)) },
        flagged: models.some((m) => !meaningful(m.diagnostics)),
      });
      const n = models[0].curve.length;
      if (n > 0 && models.every((m) => m.curve.length === n)) {
        curves.push({
          label: method,
          points: models[0].curve.map((p, i) => ({ x: p.eps * 255, y: pct(models.reduce((a, m) => a + m.curve[i].accuracy.mean, 0) / models.length) })),
        });
      }
    }
    const warnings: string[] = [];
    for (const m of r.models) {
      for (const w of m.diagnostics?.warnings ?? []) warnings.push(`${m.model}: ${w}`);
      const checks = m.checks;
      if (checks) for (const [name, c] of Object.entries(checks)) if (c && !c.ok) warnings.push(`${m.model}: ${name}: ${c.message}`);
    }
    const strong = results[`${setting}-strong`];
    if (strong)
      for (const m of strong.models)
        if (m.checks?.strongerAttack && !m.checks.strongerAttack.ok) warnings.push(`${m.model} (strong attack): ${m.checks.strongerAttack.message}`);
    summaries.push({
      setting,
      verdict:
        byMethod.has('mavrl') && byMethod.has('aq')
          ? claimVerdict(r).replace(/\*\*/g, '')
          : 'no verdict: the pre-registered rule compares mavrl with aq, and this setting does not have both',
      differences: (r.comparisons ?? []).map(
        (d) => `${d.metric}: ${d.a} − ${d.b} = ${signed(pct(d.mean))} [${signed(pct(d.low))}, ${signed(pct(d.high))}] points`,
      ),
      warnings,
      curves,
    });
  }
  return { rows, settings: summaries };
}

// ---------------------------------------------------------------------------------------------
// Exports

const HEADER = ['Setting', 'Method', 'Seeds', 'Clean %', 'Clean ±95%', 'Robust %', 'Robust ±95%', 'Meaningful'];

function cells(r: TableRow): string[] {
  return [
    r.setting,
    r.method,
    String(r.seeds),
    r.clean.mean.toFixed(1),
    r.clean.ci.toFixed(1),
    r.robust.mean.toFixed(1),
    r.robust.ci.toFixed(1),
    r.flagged ? 'no' : 'yes',
  ];
}

export function tableMarkdown(t: ResultsTable): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| Setting | Method | Seeds | Clean % (95% CI) | Robust % (95% CI) | Meaningful |',
    '| --- | --- | ---: | ---: | ---: | --- |',
    ...t.rows.map(
      (r) =>
        `| ${esc(r.setting)} | ${esc(r.method)} | ${r.seeds} | ${r.clean.mean.toFixed(1)} ± ${r.clean.ci.toFixed(1)} | ${r.robust.mean.toFixed(1)} ± ${r.robust.ci.toFixed(1)} | ${r.flagged ? 'no' : 'yes'} |`,
    ),
  ];
  for (const s of t.settings) lines.push('', `**${esc(s.setting)}**: ${esc(s.verdict)}`);
  return lines.join('\n') + '\n';
}

export function tableCsv(t: ResultsTable): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [HEADER, ...t.rows.map(cells)].map((r) => r.map(q).join(',')).join('\n') + '\n';
}

export function tableLatex(t: ResultsTable): string {
  const esc = (s: string) =>
    s.replace(/[\\&%$#_{}~^]/g, (c) => (c === '\\' ? '\\textbackslash{}' : c === '~' ? '\\textasciitilde{}' : c === '^' ? '\\textasciicircum{}' : `\\${c}`));
  return [
    '\\begin{tabular}{llrrr}',
    '\\hline',
    'Setting & Method & Seeds & Clean \\% & Robust \\% \\\\',
    '\\hline',
    ...t.rows.map(
      (r) =>
        `${esc(r.setting)} & ${esc(r.method)}${r.flagged ? '$^\\dagger$' : ''} & ${r.seeds} & $${r.clean.mean.toFixed(1)} \\pm ${r.clean.ci.toFixed(1)}$ & $${r.robust.mean.toFixed(1)} \\pm ${r.robust.ci.toFixed(1)}$ \\\\`,
    ),
    '\\hline',
    '\\end{tabular}',
    '',
  ].join('\n');
}

export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = { markdown: 'md', csv: 'csv', latex: 'tex' };

export function exportTable(t: ResultsTable, format: ExportFormat): string {
  return format === 'markdown' ? tableMarkdown(t) : format === 'csv' ? tableCsv(t) : tableLatex(t);
}

/** Everything the experiment panel shows. */
export function experimentView(f: ExperimentFacts): ExperimentView {
  const grid = experimentGrid(f);
  return { name: f.name, spec: f.specFile, progress: experimentProgress(f, grid), grid, table: resultsTable(f.results, evalSettings(f.spec)) };
}
