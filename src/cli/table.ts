// An evaluation result (EvalResultFile) as terminal text: the setting in two lines, one row per
// model (head, clean and robust accuracy with their 95% CIs, the stronger attack when it was run,
// the robustness curve, then the diagnostics: max-softmax, top-class share, robust among the
// clean-correct), the paired differences, then the warnings (at chance, collapsed) and the
// gradient-masking checks that failed. Used by `eval` and the demo.
import type { EvalResultFile, ModelEval, PairedComparison } from '../core/evalResult';
import { formatDifference, formatEps, formatEstimate } from '../formats/display';
import { table } from './output';

export interface EvalTableOptions {
  /** Also list the checks that passed. */
  allChecks?: boolean;
}

function curveHeader(eps: number, norm: 'linf' | 'l2'): string {
  if (norm === 'linf') {
    const k = eps * 255;
    if (Math.abs(k * 2 - Math.round(k * 2)) < 1e-6) return String(+k.toFixed(1));
  }
  return String(+eps.toPrecision(3));
}

/** The result as a readable table, ending with a newline. */
export function renderEvalTable(result: EvalResultFile, opts: EvalTableOptions = {}): string {
  const s = result.setting;
  const a = s.attack;
  const lines: string[] = [];
  lines.push(
    `${s.dataset} (${s.split} classes): ${s.ways}-way ${s.shots}-shot, ${s.queries} queries per class, ${s.episodes} episodes, seed ${s.seed}${s.backend ? `, backend ${s.backend}` : ''}`,
  );
  lines.push(
    `attack: PGD-${a.steps} ${a.norm === 'linf' ? 'L-inf' : 'L2'} eps ${formatEps(a.eps, a.norm)}, step ${formatEps(a.stepSize, a.norm)}, random start` +
      `${a.restarts ? `, ${a.restarts} restart${a.restarts === 1 ? '' : 's'}` : ''}; accuracy in % ± 95% CI`,
  );
  // Every model's curve has the same radii; take the union in case a file was edited by hand.
  const radii = [...new Set(result.models.flatMap((m) => m.curve.map((p) => p.eps)))].sort((x, y) => x - y);
  const strong = s.strongAttack;
  const strongName = strong ? `PGD-${strong.steps}x${strong.restarts + 1}` : '';
  const diag = result.models.some((m) => m.diagnostics);
  const header = [
    'model',
    'head',
    'clean',
    'robust',
    ...(strong ? [strongName] : []),
    ...radii.map((e, i) => (i === 0 ? `eps${a.norm === 'linf' ? '*255' : ''} ${curveHeader(e, a.norm)}` : curveHeader(e, a.norm))),
    ...(diag ? ['max-p', 'top-class', 'rob|clean', 'note'] : []),
  ];
  const rows = result.models.map((m) => {
    const byEps = new Map(m.curve.map((p) => [p.eps, p.accuracy]));
    return [
      m.model,
      m.head,
      formatEstimate(m.clean),
      formatEstimate(m.robust),
      ...(strong ? [formatEstimate(m.checks?.strongerAttack?.robust)] : []),
      ...radii.map((e) => {
        const acc = byEps.get(e);
        return acc ? (100 * acc.mean).toFixed(1) : '-';
      }),
      ...(diag ? diagnosticCells(m) : []),
    ];
  });
  lines.push('');
  lines.push(
    table(header, rows, [
      'l',
      'l',
      'r',
      'r',
      ...(strong ? ['r' as const] : []),
      ...radii.map(() => 'r' as const),
      ...(diag ? (['r', 'r', 'r', 'l'] as const) : []),
    ]),
  );
  if (diag) {
    const chance = result.models.find((m) => m.diagnostics)!.diagnostics!.chance;
    lines.push(
      `chance ${(100 * chance).toFixed(1)}%; max-p: mean largest softmax (clean); top-class: share of an episode's queries in its most predicted class; rob|clean: robust accuracy among the queries right when clean; a model at chance or collapsed has no robustness to read`,
    );
  }
  if (result.comparisons?.length) lines.push('', ...result.comparisons.map(formatComparison));
  const notes: string[] = [];
  for (const m of result.models) {
    for (const w of m.diagnostics?.warnings ?? []) notes.push(`warning: ${m.model}: ${w}`);
  }
  for (const m of result.models) {
    const checks = m.checks;
    if (!checks) continue;
    for (const c of [checks.cleanAboveRobust, checks.curveMonotone, checks.strongerAttack]) {
      if (!c) continue;
      if (!c.ok) notes.push(`warning: ${m.model}: ${c.message}`);
      else if (opts.allChecks) notes.push(`ok: ${m.model}: ${c.message}`);
    }
  }
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}

/** max-p, top-class, rob|clean and a note naming what makes the figures meaningless. */
function diagnosticCells(m: ModelEval): string[] {
  const d = m.diagnostics;
  if (!d) return ['-', '-', '-', ''];
  const note = [d.atChance && 'AT CHANCE', d.collapsed && 'COLLAPSED'].filter(Boolean).join(', ');
  return [
    (100 * d.meanMaxSoftmax.mean).toFixed(1),
    (100 * d.topClassShare.mean).toFixed(1),
    d.robustGivenClean === null ? '-' : (100 * d.robustGivenClean).toFixed(1),
    note,
  ];
}

/** 'robust: mavrl - aq = +3.1 [+1.0, +5.2] points (paired, 95% bootstrap)', with a word on whether it excludes 0. */
export function formatComparison(c: PairedComparison): string {
  const verdict = c.low > 0 ? `${c.a} higher` : c.high < 0 ? `${c.b} higher` : 'no difference beyond the interval';
  return `${c.metric}: ${c.a} - ${c.b} = ${formatDifference(c)} points (paired, 95% bootstrap): ${verdict}`;
}
