// Line charts on chart.js, coloured from the VS Code theme (its --vscode-charts-* variables) and
// recoloured when the theme changes. Each canvas carries data-points (the longest series' length)
// so that tests can check what is plotted without reading pixels.
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { Point } from '../src/extension/chartData';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-red', '--vscode-charts-green', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-yellow'];
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
}

export interface LineChartOptions {
  xLabel: string;
  yLabel: string;
  yMin?: number;
  yMax?: number;
  /** Tooltip unit after the y value, e.g. '%'. */
  yUnit?: string;
}

const charts = new Set<LineChart>();

export class LineChart {
  private chart: Chart<'line', (Point & { ci?: number })[]>;
  private series: LineSeries[] = [];

  constructor(private readonly canvas: HTMLCanvasElement, private readonly opts: LineChartOptions) {
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
          legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
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
    this.chart.data.datasets = series.map((s) => this.dataset(s));
    this.canvas.dataset.points = String(series.reduce((m, s) => Math.max(m, s.points.length), 0));
    this.canvas.dataset.series = String(series.filter((s) => s.points.length > 0).length);
    this.chart.update('none');
  }

  private dataset(s: LineSeries): ChartDataset<'line', (Point & { ci?: number })[]> {
    const color = paletteColor(s.color);
    return {
      label: s.label,
      data: s.points,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 1.5,
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
      axis.grid = { ...axis.grid, color: grid };
      axis.ticks = { ...axis.ticks, color: fg };
      axis.title = { ...axis.title, color: fg };
    }
    this.chart.data.datasets = this.series.map((s) => this.dataset(s));
    this.chart.update('none');
  }

  destroy(): void {
    charts.delete(this);
    this.chart.destroy();
  }
}

// VS Code changes the body's class (vscode-light, vscode-dark, vscode-high-contrast) on a theme switch.
new MutationObserver(() => charts.forEach((c) => c.applyTheme())).observe(document.body, { attributes: true, attributeFilter: ['class'] });
