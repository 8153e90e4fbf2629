import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';

// scripts/ is plain CommonJS run by node, outside the TypeScript build: loaded by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plat = require(path.join(__dirname, '..', '..', 'scripts', 'vsix-platforms.js')) as {
  TARGETS: Record<string, { os: string; cpu: string }>;
  expectedSharpPackages(t: string): string[];
  checkSharp(t: string, entries: string[]): string[];
  zipEntries(file: string): string[];
};

test('every shipped target installs with its own --os/--cpu and expects its own sharp binary', () => {
  assert.deepEqual(Object.keys(plat.TARGETS).sort(), ['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-x64', 'win32-x64']);
  assert.deepEqual(plat.expectedSharpPackages('darwin-arm64'), ['@img/sharp-darwin-arm64', '@img/sharp-libvips-darwin-arm64']);
  assert.deepEqual(plat.expectedSharpPackages('win32-x64'), ['@img/sharp-win32-x64']);
  assert.throws(() => plat.expectedSharpPackages('sunos-sparc'), /unknown target/);
});

test("checkSharp: the right binary passes; a missing one or another platform's is named", () => {
  const e = (p: string) => `extension/node_modules/${p}/lib/x.node`;
  assert.deepEqual(plat.checkSharp('linux-arm64', [e('@img/sharp-linux-arm64'), e('@img/sharp-libvips-linux-arm64'), e('sharp')]), []);
  assert.deepEqual(plat.checkSharp('linux-arm64', [e('@img/sharp-linux-x64'), e('@img/sharp-libvips-linux-arm64')]), [
    'linux-arm64: @img/sharp-linux-arm64 is missing',
    'linux-arm64: @img/sharp-linux-x64 belongs to another platform',
  ]);
});

/** A minimal zip (stored entries) written by hand, to read back. */
function writeZip(file: string, names: string[]): void {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const n of names) {
    const name = Buffer.from(n);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name);
    centrals.push(central, name);
    offset += 30 + name.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.writeFileSync(file, Buffer.concat([...locals, cd, end]));
}

test('zipEntries reads the file names of a zip; a non-zip is refused by name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-'));
  const f = path.join(dir, 'a.vsix');
  writeZip(f, ['extension/package.json', 'extension/node_modules/@img/sharp-win32-x64/lib/sharp.node']);
  assert.deepEqual(plat.zipEntries(f), ['extension/package.json', 'extension/node_modules/@img/sharp-win32-x64/lib/sharp.node']);
  assert.deepEqual(plat.checkSharp('win32-x64', plat.zipEntries(f)), []);
  const bad = path.join(dir, 'b.vsix');
  fs.writeFileSync(bad, zlib.gzipSync('not a zip'));
  assert.throws(() => plat.zipEntries(bad), /not a zip file/);
  fs.rmSync(dir, { recursive: true, force: true });
});
