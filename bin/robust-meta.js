#!/usr/bin/env node
// The robust-meta command. The code is compiled to out/ by `npm run build`.
'use strict';
let cli;
try {
  ({ cli } = require('../out/src/cli/main.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('out/src/cli/main.js')) {
    process.stderr.write('robust-meta: not built yet; run `npm run build` in ' + require('path').join(__dirname, '..') + '\n');
    process.exit(1);
  }
  throw e;
}
cli();
