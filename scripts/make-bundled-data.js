#!/usr/bin/env node
// Regenerates the bundled datasets under data/ byte for byte from their seed:
//   data/glyphs/<class>/*.png                       procedurally drawn glyphs (no input needed)
//   data/fashion-mnist-small/*-idx?-ubyte.gz        a seeded subset of Fashion-MNIST
//
// Usage (after `npx tsc -p .`):
//   node scripts/make-bundled-data.js [--fashion-mnist DIR] [--only glyphs|fashion] [--check]
// DIR holds the original train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz
// (default: $FASHION_MNIST_DIR, else ../shared/data/fashion-mnist next to the repository).
// --check writes nothing: it compares what would be written with data/ and exits 1 on a difference.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
let bundled;
try {
  bundled = require(path.join(root, 'out/src/core/data/bundled.js'));
} catch (e) {
  console.error('Build first: npx tsc -p .  (' + e.message + ')');
  process.exit(2);
}

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const check = args.includes('--check');
const only = opt('--only');
const fashionDir = path.resolve(opt('--fashion-mnist') || process.env.FASHION_MNIST_DIR || path.join(root, '..', 'shared', 'data', 'fashion-mnist'));

let differences = 0;
function sync(outDir, files, pattern) {
  // Files matching `pattern` under outDir that are not in `files` are stale.
  const existing = [];
  const walk = (dir, rel) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? rel + '/' + e.name : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (pattern.test(e.name)) existing.push(r);
    }
  };
  walk(outDir, '');
  for (const r of existing) {
    if (files.has(r)) continue;
    differences++;
    if (check) console.log('stale: ' + path.join(outDir, r));
    else fs.rmSync(path.join(outDir, r));
  }
  let written = 0;
  let bytes = 0;
  for (const [r, buf] of files) {
    const file = path.join(outDir, r);
    bytes += buf.length;
    const same = fs.existsSync(file) && fs.readFileSync(file).equals(buf);
    if (same) continue;
    differences++;
    if (check) console.log('differs: ' + file);
    else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, buf);
      written++;
    }
  }
  console.log(`${path.relative(root, outDir)}: ${files.size} files, ${(bytes / 1024).toFixed(0)} KiB` + (check ? '' : `, ${written} (re)written`));
}

if (!only || only === 'glyphs') {
  sync(path.join(root, 'data', 'glyphs'), bundled.makeGlyphFiles(bundled.BUNDLED_SEED), /\.png$/);
}
if (!only || only === 'fashion') {
  if (!fs.existsSync(fashionDir)) {
    console.error(`Fashion-MNIST not found in ${fashionDir}; pass --fashion-mnist DIR (the original IDX .gz files)`);
    process.exit(2);
  }
  sync(path.join(root, 'data', 'fashion-mnist-small'), bundled.makeFashionSubsetFiles(fashionDir, bundled.BUNDLED_SEED), /-ubyte(\.gz)?$|^classes\.txt$/);
}
if (check) {
  console.log(differences ? `${differences} difference(s)` : 'data/ matches the generator');
  process.exit(differences ? 1 : 0);
}
