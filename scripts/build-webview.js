#!/usr/bin/env node
// Bundles the panel front end (webview/main.ts, chart.js included) for the browser into
// dist/webview/main.js, and copies its stylesheet beside it. Type-checking of webview/ is done by
// `tsc -p webview` (DOM lib); esbuild only strips types. `--watch` rebuilds on change.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const outdir = path.join(root, 'dist', 'webview');
const watch = process.argv.includes('--watch');

const copyCss = {
  name: 'copy-css',
  setup(build) {
    build.onEnd(() => {
      fs.mkdirSync(outdir, { recursive: true });
      fs.copyFileSync(path.join(root, 'webview', 'styles.css'), path.join(outdir, 'styles.css'));
    });
  },
};

const options = {
  entryPoints: [path.join(root, 'webview', 'main.ts')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome120'],
  outfile: path.join(outdir, 'main.js'),
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [copyCss],
};

if (watch) {
  esbuild.context(options).then((ctx) => ctx.watch());
} else {
  esbuild.buildSync({ ...options, plugins: [] });
  copyCss.setup({ onEnd: (f) => f() });
}
