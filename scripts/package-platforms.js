#!/usr/bin/env node
// One VSIX per platform (`vsce package --target`), each with that platform's sharp binary:
// the built extension is staged in .cache/vsix/<target>/, its production dependencies are
// installed there with npm's --os/--cpu (another platform's optional binaries included), then
// packed, then checked to hold exactly that platform's sharp packages.
//   node scripts/package-platforms.js [target ...]      (after `npm run build`; default: all)
//   node scripts/package-platforms.js --check vsix/robust-meta-linux-x64.vsix ...
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { TARGETS, checkSharp, zipEntries } = require('./vsix-platforms');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'vsix');
// What the VSIX holds besides node_modules (.vscodeignore trims inside them).
const COPY = ['out', 'dist', 'data', 'media', 'schemas', 'bin', 'experiments', 'README.md', '.vscodeignore', 'LICENSE'];

function check(target, vsix) {
  const problems = checkSharp(target, zipEntries(vsix));
  if (problems.length) throw new Error(`${path.basename(vsix)}:\n  ${problems.join('\n  ')}`);
  console.log(`${path.basename(vsix)}: holds ${target}'s sharp binary, no other platform's`);
}

function build(target) {
  const { os, cpu } = TARGETS[target];
  const stage = path.join(root, '.cache', 'vsix', target);
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const f of COPY) if (fs.existsSync(path.join(root, f))) fs.cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
  // The native tfjs bindings and Dawn are optional and machine-specific: not in a platform VSIX.
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  delete pkg.optionalDependencies;
  delete pkg.devDependencies;
  delete pkg.scripts;
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--omit=dev', `--os=${os}`, `--cpu=${cpu}`, '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], {
    cwd: stage,
    stdio: 'inherit',
  });
  fs.mkdirSync(outDir, { recursive: true });
  const vsix = path.join(outDir, `robust-meta-${target}.vsix`);
  const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(
    process.execPath,
    [vsce, 'package', '--target', target, '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', vsix],
    { cwd: stage, stdio: 'inherit' },
  );
  check(target, vsix);
}

const args = process.argv.slice(2);
if (args[0] === '--check') {
  for (const f of args.slice(1)) {
    const m = /robust-meta-(.+)\.vsix$/.exec(path.basename(f));
    if (!m || !TARGETS[m[1]]) throw new Error(`${f}: name it robust-meta-<target>.vsix (targets: ${Object.keys(TARGETS).join(', ')})`);
    check(m[1], f);
  }
} else {
  for (const t of args.length ? args : Object.keys(TARGETS)) {
    if (!TARGETS[t]) throw new Error(`unknown target ${t}; known: ${Object.keys(TARGETS).join(', ')}`);
    build(t);
  }
}
