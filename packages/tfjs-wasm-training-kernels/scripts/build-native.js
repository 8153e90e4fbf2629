// Builds the optional native GEMM kernels (native/*.cc) into out/native/kernels.node with the C++
// compiler on this machine, as part of `npm run build`. Never fails the build: where there is no
// compiler, no Node-API headers or not a Linux x64 machine, it says so in one line and the wasm
// kernels run (simd/native.ts finds no addon). Skips the compile when the addon is newer than its
// sources. ROBUST_META_NATIVE=0 skips it altogether; ROBUST_META_NATIVE=required (CI) makes any
// reason not to build an error.
//
// No node-gyp: it would download Node's headers, and the addon needs only Node-API's, which the
// node-api-headers package carries. Each instruction set's file is compiled with its own -m flags
// so the rest of the addon runs on any x64 CPU; the addon picks at run time (addon.cc).
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const src = path.join(root, 'native');
const outDir = path.join(root, 'out', 'native');
const target = path.join(outDir, 'kernels.node');
const CXX = process.env.CXX || 'g++';
const COMMON = ['-O3', '-std=c++17', '-fPIC', '-fno-exceptions', '-fno-rtti', '-fvisibility=hidden', '-ffp-contract=fast', '-Wall', '-Wno-psabi'];
const UNITS = [
  { file: 'addon.cc', flags: [] },
  { file: 'gemm_avx2.cc', flags: ['-mavx2', '-mfma'] },
  { file: 'gemm_avx512.cc', flags: ['-mavx512f', '-mavx512vl', '-mfma'] },
  { file: 'gemm_avx512_on_avx2.cc', flags: ['-mavx2', '-mfma'] },
  // Multiply, then add, as the wasm loops do (their bits, tested); C++20 for templated lambdas.
  { file: 'bn.cc', flags: ['-mavx2', '-ffp-contract=off', '-std=c++20'] },
];

function skip(why) {
  // A stale addon from older sources must not stay behind a failed build.
  fs.rmSync(target, { force: true });
  if (process.env.ROBUST_META_NATIVE === 'required') {
    console.error(`native kernels: not built (${why}), and ROBUST_META_NATIVE=required`);
    process.exit(1);
  }
  console.log(`native kernels: not built (${why}); the wasm kernels run`);
  process.exit(0);
}

function headersDir() {
  try {
    return path.join(path.dirname(require.resolve('node-api-headers/package.json')), 'include');
  } catch {
    const bundled = path.join(path.dirname(process.execPath), '..', 'include', 'node');
    return fs.existsSync(path.join(bundled, 'node_api.h')) ? bundled : undefined;
  }
}

function main() {
  if (process.env.ROBUST_META_NATIVE === '0') skip('ROBUST_META_NATIVE=0');
  if (process.platform !== 'linux' || process.arch !== 'x64') skip(`${process.platform}-${process.arch}: only linux-x64 is written for`);
  const include = headersDir();
  if (!include) skip('no Node-API headers: npm install node-api-headers');
  const sources = fs.readdirSync(src).map((f) => path.join(src, f));
  const newest = Math.max(...sources.map((f) => fs.statSync(f).mtimeMs), fs.statSync(__filename).mtimeMs);
  if (fs.existsSync(target) && fs.statSync(target).mtimeMs > newest) return;
  try {
    execFileSync(CXX, ['--version'], { stdio: 'ignore' });
  } catch {
    skip(`no C++ compiler (${CXX})`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-native-'));
  try {
    const objects = UNITS.map(({ file, flags }) => {
      const obj = path.join(tmp, file.replace(/\.cc$/, '.o'));
      execFileSync(CXX, [...COMMON, ...flags, '-I', include, '-c', path.join(src, file), '-o', obj], { stdio: 'inherit' });
      return obj;
    });
    // Written beside, then renamed: a worker that loads the addon never sees half a file.
    const partial = `${target}.${process.pid}.tmp`;
    execFileSync(CXX, ['-shared', '-o', partial, ...objects], { stdio: 'inherit' });
    fs.renameSync(partial, target);
    console.log(`native kernels: built ${path.relative(process.cwd(), target)}`);
  } catch (e) {
    skip(`the compile failed: ${e.message.split('\n')[0]}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
