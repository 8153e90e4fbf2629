// robust-meta doctor: what this machine offers: backends present and the one in use (with wasm's
// SIMD, threads and what runs the GEMM loops: the native addon or a build of the SIMD module, and
// why not the addon; or webgpu's adapter), versions, CPU cores and memory, and whether the
// bundled data is there.
import * as fs from 'fs';
import * as os from 'os';
import { BACKEND_CHOICES, BackendChoice, initBackend, probeBackends } from '../../core/backend';
import { nativeUnavailable } from 'tfjs-wasm-training-kernels';
import { adapterLabel } from '../../core/webgpu';
import { packageRoot, packageVersion, bundledDataPath, DEFAULT_SOURCE_DATA, DEFAULT_UNSEEN_DOMAIN } from '../../runner/packageInfo';
import { ParsedArgs, UsageError } from '../args';
import { Command, HELP_OPTION, JSON_OPTION } from '../command';

function version(pkg: string): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`${pkg}/package.json`).version as string;
  } catch {
    return null;
  }
}

async function run(args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError(`doctor takes no positional arguments, got ${args.positionals.join(' ')}`);
  const choice = (args.options.backend as BackendChoice | undefined) ?? 'auto';
  const probes = probeBackends();
  let used: Awaited<ReturnType<typeof initBackend>> | undefined;
  let backendError: string | undefined;
  try {
    used = await initBackend(choice);
  } catch (e) {
    backendError = (e as Error).message;
  }
  const data = [DEFAULT_SOURCE_DATA, DEFAULT_UNSEEN_DOMAIN].map((name) => {
    try {
      const p = bundledDataPath(name);
      return { name, path: p, present: fs.existsSync(p) };
    } catch (e) {
      return { name, path: null, present: false, problem: (e as Error).message };
    }
  });
  const noNative = used?.simd ? (nativeUnavailable() ?? null) : null;
  const report = {
    robustMeta: packageVersion(),
    packageRoot: packageRoot(),
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${process.platform} ${process.arch}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    backend: used
      ? {
          requested: choice,
          name: used.name,
          tfjsName: used.tfjsName,
          simd: used.simd ?? null,
          threads: used.threads ?? null,
          kernels: used.kernels ?? null,
          /** Why the native GEMM addon is not in use (null when it is, or off wasm). */
          nativeUnavailable: noNative,
          adapter: used.adapter ?? null,
          skipped: used.skipped,
        }
      : { requested: choice, error: backendError },
    backends: (used?.probes ?? probes).map((p) => ({
      name: p.name,
      package: p.packageName,
      available: p.available,
      version: p.version ?? null,
      reason: p.reason ?? null,
    })),
    versions: {
      '@tensorflow/tfjs-core': version('@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      '@tensorflow/tfjs-backend-cpu': version('@tensorflow/tfjs-backend-cpu'),
      '@tensorflow/tfjs-node': version('@tensorflow/tfjs-node'),
      '@tensorflow/tfjs-node-gpu': version('@tensorflow/tfjs-node-gpu'),
      '@tensorflow/tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu'),
      webgpu: version('webgpu'),
      sharp: version('sharp'),
    },
    data,
  };
  if (args.options.json === true) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return used ? 0 : 1;
  }
  const mark = (ok: boolean) => (ok ? 'ok ' : '-- ');
  const lines = [
    `robust-meta ${report.robustMeta} (${report.packageRoot})`,
    `node        ${report.node} (v8 ${report.v8}) on ${report.platform}`,
    `cpu         ${report.cpus} cores, ${report.cpuModel}; ${report.memoryGb} GB memory`,
    used
      ? `backend     ${used.name} in use${used.simd !== undefined ? ` (wasm SIMD ${used.simd ? 'on' : 'off'}, threads ${used.threads})` : ''}${choice !== 'auto' ? ` (asked for ${choice})` : ' (auto)'}`
      : `backend     none usable for '${choice}': ${backendError}`,
    ...(used?.adapter ? [`adapter     ${adapterLabel(used.adapter)}`] : []),
    ...(used?.simd ? [`kernels     ${used.kernels} for the GEMM loops${kernelsNote(used.kernels, noNative)}`] : []),
    'backends:',
    ...report.backends.map(
      (b) => `  ${mark(b.available)}${b.name.padEnd(15)} ${b.package}${b.version ? ` ${b.version}` : ''}${b.reason ? ` - ${b.reason}` : ''}`,
    ),
    'bundled data:',
    ...data.map((d) => `  ${mark(d.present)}${d.name.padEnd(20)} ${d.path ?? (d as { problem?: string }).problem ?? ''}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return used && data.every((d) => d.present) ? 0 : 1;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the machine: backends present and used, SIMD/threads, versions, cores, bundled data.',
  usage: `[--backend ${BACKEND_CHOICES.join('|')}] [--json]`,
  options: [HELP_OPTION, JSON_OPTION, { flag: 'backend', type: 'string', enum: BACKEND_CHOICES, default: 'auto', description: 'Backend to try.' }],
  run,
};

/** What the kernels line adds: which native addon runs, or why none does. */
function kernelsNote(path: string | undefined, noNative: string | null): string {
  if (path?.startsWith('native-')) return ' (native addon)';
  if (noNative) return `; native kernels ${noNative}`;
  return '; native kernels available, not picked (ROBUST_META_KERNELS)';
}
