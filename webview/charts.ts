// Line charts on chart.js, coloured from the VS Code theme (its --vscode-charts-* variables) and
// recoloured when the theme changes. Each canvas carries data-points (the longest series' length)
// so that tests can check what is plotted without reading pixels. Training charts follow the
// panel's chart view (chartView.ts): smoothed series over faint raw ones, step or wall-time x,
// log-scale losses.
import { Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { Point } from '../src/extension/chartData';
import { formatDuration } from '../src/formats/display';
import { DEFAULT_CHART_VIEW, viewSeries, type ChartView } from '../src/extension/chartView';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

const PALETTE = [
  '--vscode-charts-blue',
  '--vscode-charts-red',
  '--vscode-charts-green',
  '--vscode-charts-orange',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
];
const FALLBACK = ['#3794ff', '#f14c4c', '#89d185', '#d18616', '#b180d7', '#cca700'];

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function paletteColor(i: number): string {
  const k = i % PALETTE.length;
  return cssVar(PALETTE[k], FALLBACK[k]);
}

export interface LineSeries {
  label: string;
  points: (Point & { ci?: number })[];
  /** Index into the theme palette. */
  color: number;
  dashed?: boolean;
  /** Draw point markers (short series such as robustness curves). */
  markers?: boolean;
  /** Seconds since the run's first step at a step: the wall-time x axis (training series). */
  elapsed?: (step: number) => number;
}

type Datum = Point & { ci?: number };
type LineDataset = ChartDataset<'line', Datum[]> & { rawShadow?: boolean };

export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  yMin?: number;
  yMax?: number;
  /** Tooltip unit after the y value, e.g. '%'. */
  yUnit?: string;
  /** A training chart: follows the chart view (smoothing, x axis). */
  training?: boolean;
  /** A loss chart: logarithmic y when the view asks for it. */
  loss?: boolean;
}

/** A CSS colour (#rgb, #rrggbb or rgb()) at the given opacity; other forms are returned as they are. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color.trim());
  if (hex) {
    const d = hex[1].length === 3 ? hex[1].replace(/./g, '$&$&') : hex[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(d.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color.trim());
  if (rgb) {
    const [r, g, b] = rgb[1].split(/[ ,/]+/);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}

const charts = new Set<LineChart>();

export class LineChart {
  private chart: Chart<'line', Datum[]>;
  private series: LineSeries[] = [];
  private view: ChartView = DEFAULT_CHART_VIEW;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly opts: LineChartOptions,
  ) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', intersect: false, axis: 'x' },
        scales: {
          x: { type: 'linear', title: { display: true, text: opts.xLabel } },
          y: { type: 'linear', title: { display: true, text: opts.yLabel }, min: opts.yMin, max: opts.yMax },
        },
        plugins: {
          legend: {
            display: true,
            position: 'bottom',
            labels: { boxWidth: 12, filter: (item, data) => !(data.datasets[item.datasetIndex ?? 0] as LineDataset).rawShadow },
          },
          tooltip: {
            callbacks: {
              title: (items) => {
                const x = items[0]?.parsed.x;
                if (x === undefined || x === null) return '';
                return this.timeAxis() ? formatDuration(x) : `${opts.xLabel} ${Number(x.toFixed(2))}`;
              },
              label: (ctx) => {
                const p = ctx.raw as Point & { ci?: number };
                const unit = opts.yUnit ?? '';
                const ci = p.ci !== undefined ? ` ± ${p.ci.toFixed(1)}` : '';
                return `${ctx.dataset.label}: ${p.y.toFixed(unit === '%' ? 1 : 4)}${ci}${unit}`;
              },
            },
          },
        },
      },
    });
    charts.add(this);
    this.canvas.dataset.points = '0';
    this.applyTheme();
  }

  update(series: LineSeries[]): void {
    this.series = series;
    this.canvas.dataset.points = String(series.reduce((m, s) => Math.max(m, s.points.length), 0));
    this.canvas.dataset.series = String(series.filter((s) => s.points.length > 0).length);
    this.redraw();
  }

  /** Applies a chart view (training charts only; the others ignore it). */
  setView(view: ChartView): void {
    if (!this.opts.training) return;
    this.view = view;
    this.redraw();
  }

  private timeAxis(): boolean {
    return !!this.opts.training && this.view.xAxis === 'time' && this.series.some((s) => s.elapsed);
  }

  private redraw(): void {
    const scales = this.chart.options.scales as Record<string, { type?: string; title?: { text?: string } }>;
    // Set in place: spreading chart.js's resolved option objects copies its internal keys too.
    scales.x.title ??= {};
    scales.x.title.text = this.timeAxis() ? 'wall time (s since the first step)' : this.opts.xLabel;
    const log = !!this.opts.loss && this.view.logLosses;
    scales.y.type = log ? 'logarithmic' : 'linear';
    this.chart.data.datasets = this.series.flatMap((s) => this.datasets(s));
    const first = this.chart.data.datasets.find((d) => !(d as LineDataset).rawShadow);
    const last = first?.data[first.data.length - 1];
    Object.assign(this.canvas.dataset, {
      smoothing: String(this.opts.training ? this.view.smoothing : 0),
      xAxis: this.timeAxis() ? 'time' : 'step',
      yScale: log ? 'log' : 'linear',
      lastY: last ? String(last.y) : '',
    });
    this.chart.update('none');
  }

  private datasets(s: LineSeries): LineDataset[] {
    if (!this.opts.training) return [this.dataset(s, s.points)];
    const v = viewSeries(s.points, this.view, s.elapsed);
    if (!v.smoothed) return [this.dataset(s, v.raw)];
    return [this.dataset(s, v.raw, true), this.dataset(s, v.smoothed)];
  }

  private dataset(s: LineSeries, data: Datum[], rawShadow = false): LineDataset {
    const color = paletteColor(s.color);
    const faint = rawShadow ? withAlpha(color, 0.25) : color;
    return {
      label: rawShadow ? `${s.label} (raw)` : s.label,
      rawShadow,
      data,
      borderColor: faint,
      backgroundColor: faint,
      borderWidth: rawShadow ? 1 : 1.5,
      borderDash: s.dashed ? [5, 4] : [],
      pointRadius: s.markers ? 3 : 0,
      pointHoverRadius: 4,
      tension: 0,
      spanGaps: true,
    };
  }

  applyTheme(): void {
    const fg = cssVar('--vscode-foreground', '#cccccc');
    const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
    const font = cssVar('--vscode-font-family', 'sans-serif');
    Chart.defaults.color = fg;
    Chart.defaults.font.family = font;
    const scales = this.chart.options.scales as Record<string, { grid?: { color?: string }; ticks?: { color?: string }; title?: { color?: string } }>;
    for (const axis of Object.values(scales)) {
      (axis.grid ??= {}).color = grid;
      (axis.ticks ??= {}).color = fg;
      (axis.title ??= {}).color = fg;
    }
    this.redraw();
  }

  /** The chart as a PNG data URL, on the editor's background (the canvas itself is transparent). */
  toPng(): string {
    const out = document.createElement('canvas');
    out.width = this.canvas.width;
    out.height = this.canvas.height;
    const g = out.getContext('2d')!;
    g.fillStyle = cssVar('--vscode-editor-background', '#1e1e1e');
    g.fillRect(0, 0, out.width, out.height);
    g.drawImage(this.canvas, 0, 0);
    return out.toDataURL('image/png');
  }

  destroy(): void {
    charts.delete(this);
    this.chart.destroy();
  }
}

// VS Code changes the body's class (vscode-light, vscode-dark, vscode-high-contrast) on a theme switch.
new MutationObserver(() => charts.forEach((c) => c.applyTheme())).observe(document.body, { attributes: true, attributeFilter: ['class'] });
