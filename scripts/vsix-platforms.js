// The platform-specific VSIX packages: which targets, which npm --os/--cpu each installs with,
// which sharp binary packages each must hold (and no other), and a reader of a VSIX's (zip's)
// file names. Used by package-platforms.js and its test.
'use strict';
const fs = require('fs');

/** vsce targets we ship, with npm's --os/--cpu for each. */
const TARGETS = {
  'linux-x64': { os: 'linux', cpu: 'x64' },
  'linux-arm64': { os: 'linux', cpu: 'arm64' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'win32-x64': { os: 'win32', cpu: 'x64' },
};

/** The @img packages sharp needs on a target: its binding, and libvips beside it (on Windows
 * libvips is inside the binding's package). */
function expectedSharpPackages(target) {
  if (!TARGETS[target]) throw new Error(`unknown target ${target}; known: ${Object.keys(TARGETS).join(', ')}`);
  return target.startsWith('win32') ? [`@img/sharp-${target}`] : [`@img/sharp-${target}`, `@img/sharp-libvips-${target}`];
}

/** The @img/sharp-* packages present in a list of paths (VSIX entries: extension/node_modules/...). */
function sharpPackagesIn(entries) {
  const found = new Set();
  for (const e of entries) {
    const m = /(?:^|\/)node_modules\/(@img\/sharp-[^/]+)\//.exec(e);
    if (m) found.add(m[1]);
  }
  return [...found].sort();
}

/** Problems with a target's VSIX entries: a missing sharp package, or another platform's. */
function checkSharp(target, entries) {
  const want = expectedSharpPackages(target);
  const have = sharpPackagesIn(entries);
  const problems = [];
  for (const p of want) if (!have.includes(p)) problems.push(`${target}: ${p} is missing`);
  for (const p of have) if (!want.includes(p)) problems.push(`${target}: ${p} belongs to another platform`);
  return problems;
}

/** The file names of a zip (VSIX) file, from its central directory. */
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

module.exports = { TARGETS, expectedSharpPackages, sharpPackagesIn, checkSharp, zipEntries };
