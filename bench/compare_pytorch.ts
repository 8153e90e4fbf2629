// The README's performance table, measured: each row's robust-meta command (`bench --json`) and
// its PyTorch reference (bench/pytorch_step.py, the same work) run one right after the other,
// for several rounds, since these shared machines move a ratio by 0.05 between runs of the same
// code. Prints the machine (CPU model, generation, vector width), the kernel path, and a markdown
// table of milliseconds and ratios per round, with the targets of issue #17.
//
//   npm run build && node out/bench/compare_pytorch.js [--rounds 3] [--rows step,step28,...] [--python /usr/bin/python3]
//
// Needs PyTorch for the python given (Debian: apt-get install python3-torch, for /usr/bin/python3).
// Nothing else should run meanwhile: both programs use every core.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { readCpuinfo } from '../src/runner/bench';

interface Row {
  id: string;
  label: string;
  robustMeta: string[];
  pytorch: string[];
  target?: number;
}

const EVAL28 = ['--eval', '--episodes', '40', '--image-size', '28', '--channels', '1', '--width', '32'];
const SMALL = ['--image-size', '28', '--channels', '1', '--width', '32'];

const ROWS: Row[] = [
  { id: 'step', label: 'benchmark step, 2 threads each', robustMeta: [], pytorch: [], target: 0.5 },
  { id: 'step1', label: 'benchmark step, one thread each (`--workers 1`, `--threads 1`)', robustMeta: ['--workers', '1'], pytorch: ['--threads', '1'] },
  { id: 'step28', label: '28x28x1 Conv4-32 step, 2 threads', robustMeta: SMALL, pytorch: SMALL, target: 0.4 },
  { id: 'eval28', label: 'evaluation episode, 28x28x1 Conv4-32, PGD-20', robustMeta: EVAL28, pytorch: EVAL28, target: 0.4 },
  {
    id: 'eval32',
    label: 'evaluation episode, 32x32x3 Conv4-64, PGD-20',
    robustMeta: ['--eval', '--episodes', '20'],
    pytorch: ['--eval', '--episodes', '20'],
    target: 0.4,
  },
];

const ROOT = path.join(__dirname, '..', '..');

function usage(message: string): never {
  console.error(`compare_pytorch: ${message}`);
  console.error(`usage: node out/bench/compare_pytorch.js [--rounds N] [--rows ${ROWS.map((r) => r.id).join(',')}] [--python PATH]`);
  process.exit(2);
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  if (at + 1 >= args.length) usage(`${name} needs a value`);
  return args[at + 1];
}

/** A JSON report of either program (one object): its milliseconds per step or episode, and robust-meta's kernel path. */
function parseReport(report: string, what: string): { ms: number; kernels?: string } {
  let parsed: { ms_per_step?: number; ms_per_episode?: number; kernels?: string };
  try {
    parsed = JSON.parse(report);
  } catch {
    throw new Error(`${what} printed no JSON report: ${report.slice(0, 200)}`);
  }
  const ms = parsed.ms_per_step ?? parsed.ms_per_episode;
  if (typeof ms !== 'number') throw new Error(`${what}: its report has no ms_per_step or ms_per_episode`);
  return { ms, kernels: parsed.kernels };
}

function run(command: string, args: string[], what: string): string {
  try {
    return execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const tail = (err.stderr ?? err.message).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${what} failed: ${tail}`);
  }
}

/** "AMD EPYC, family 26 model 2, AVX-512, 2 cores" from /proc/cpuinfo (Linux), else the platform. */
function machine(): string {
  const info = readCpuinfo();
  if (!info) return `${process.platform} ${process.arch}`;
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '?';
  const flags = field('flags').split(/\s+/);
  const isa = flags.includes('avx512f') ? 'AVX-512' : flags.includes('avx2') ? 'AVX2' : 'no AVX2';
  const cores = (info.match(/^processor\s*:/gm) ?? []).length;
  return `${field('model name')}, family ${field('cpu family')} model ${field('model')}, ${isa}, ${cores} cores`;
}

const fmtMs = (ms: number) => Math.round(ms).toLocaleString('en-US');

function main(): void {
  const args = process.argv.slice(2);
  const rounds = Number(option(args, '--rounds') ?? '3');
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) usage('--rounds must be an integer from 1 to 20');
  const ids = (option(args, '--rows') ?? ROWS.map((r) => r.id).join(',')).split(',');
  const unknown = ids.filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length) usage(`unknown row ${unknown.join(', ')}`);
  const rows = ROWS.filter((r) => ids.includes(r.id));
  const python = option(args, '--python') ?? '/usr/bin/python3';
  try {
    run(python, ['-c', 'import torch'], `${python} -c 'import torch'`);
  } catch {
    usage(`${python} has no PyTorch (Debian: apt-get install python3-torch; or --python PATH)`);
  }

  const ms: { rm: number[]; pt: number[] }[] = rows.map(() => ({ rm: [], pt: [] }));
  let kernels = '?';
  for (let round = 1; round <= rounds; round++)
    rows.forEach((row, i) => {
      const rmWhat = `robust-meta bench (${row.id})`;
      const rm = parseReport(run(process.execPath, [path.join(ROOT, 'bin', 'robust-meta.js'), 'bench', '--json', ...row.robustMeta], rmWhat), rmWhat);
      kernels = rm.kernels ?? kernels;
      ms[i].rm.push(rm.ms);
      const ptWhat = `pytorch_step.py (${row.id})`;
      ms[i].pt.push(parseReport(run(python, [path.join(ROOT, 'bench', 'pytorch_step.py'), ...row.pytorch], ptWhat), ptWhat).ms);
      const last = ms[i].rm.length - 1;
      console.error(`round ${round}, ${row.id}: ${fmtMs(ms[i].rm[last])} / ${fmtMs(ms[i].pt[last])} ms = ${(ms[i].rm[last] / ms[i].pt[last]).toFixed(2)}`);
    });

  console.log(`Machine: ${machine()}; robust-meta kernels ${kernels}; ${rounds} round(s), each row's two programs one right after the other.\n`);
  console.log(`| work | robust-meta \`${kernels}\`, ms | PyTorch, ms | robust-meta / PyTorch, per round | target |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  rows.forEach((row, i) => {
    const ratios = ms[i].rm.map((v, k) => (v / ms[i].pt[k]).toFixed(2));
    const ratioCell = row.target !== undefined ? `**${ratios.join(' / ')}**` : ratios.join(' / ');
    console.log(`| ${row.label} | ${ms[i].rm.map(fmtMs).join(' / ')} | ${ms[i].pt.map(fmtMs).join(' / ')} | ${ratioCell} | ${row.target ?? ''} |`);
  });
}

try {
  main();
} catch (e) {
  console.error(`compare_pytorch: ${(e as Error).message}`);
  process.exit(1);
}
