// Terminal output: a one-line progress bar on a TTY, plain lines (at most one a second) when the
// output is a pipe or a file, and simple aligned tables. Figures are formatted by formats/display.ts.
import { formatDuration } from '../formats/display';

export interface ProgressState {
  step: number;
  total: number;
  /** Extra fields, e.g. { loss: '2.31' }. */
  fields?: Record<string, string>;
  etaSeconds?: number | null;
}

/** Progress of a loop: redrawn in place on a TTY, printed as lines (throttled) otherwise. */
export class Progress {
  private lastLine = 0;
  private drawn = false;
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly label = 'step',
    private readonly minIntervalMs = 1000,
  ) {
    this.tty = Boolean(stream.isTTY) && process.env.TERM !== 'dumb';
  }

  update(p: ProgressState): void {
    const fields = Object.entries(p.fields ?? {}).map(([k, v]) => `${k} ${v}`);
    const text = `${this.label} ${p.step}/${p.total}${fields.length ? '  ' + fields.join('  ') : ''}  ETA ${formatDuration(p.etaSeconds)}`;
    if (this.tty) {
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - text.length - 4));
      const filled = p.total > 0 ? Math.round((width * Math.min(p.step, p.total)) / p.total) : 0;
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      this.stream.write(`\r\x1b[2K${bar} ${text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastLine >= this.minIntervalMs || p.step === p.total) {
      this.lastLine = now;
      this.stream.write(text + '\n');
    }
  }

  /** Prints a line above the bar (or as a line), keeping the bar below it. */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[2K');
    this.stream.write(line + '\n');
    this.drawn = false;
  }

  done(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

/** Rows as an aligned text table with a header line. */
export function table(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}
