// The datasets built from Debian packages (scripts/data/): the small subsets committed in data/
// have the class counts and layouts that their manifests say, carry their licence file, and load
// in the engine; the build is deterministic (run when Debian's python3-pil and gimp-data are
// installed, as `sh scripts/data/build-all.sh` installs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadDataset } from '../src/core/data';

const ROOT = path.resolve(__dirname, '../..');
const DATA = path.join(ROOT, 'data');

interface Manifest {
  size: number;
  sha256: string;
  classes: Record<string, { instances: number; split?: string }>;
  splits?: Record<string, number>;
}

const manifest = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

function pngsUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? pngsUnder(path.join(dir, e.name)) : e.name.endsWith('.png') ? [path.join(dir, e.name)] : []));
}

for (const [name, minClasses, minPer, channels] of [
  ['characters-small', 40, 10, 1],
  ['icons-small', 12, 10, 3],
  ['textures-small', 10, 10, 3],
] as const) {
  test(`${name}: class counts as its manifest says, a licence file, loads in the engine`, async () => {
    const dir = path.join(DATA, name);
    const m = manifest(dir);
    const classes = Object.entries(m.classes);
    assert.ok(classes.length >= minClasses, `${classes.length} classes`);
    for (const [c, info] of classes) {
      const folder = info.split ? path.join(dir, info.split, c) : path.join(dir, c);
      const n = fs.readdirSync(folder).filter((f) => f.endsWith('.png')).length;
      assert.equal(n, info.instances, `${c}: ${n} images, manifest says ${info.instances}`);
      assert.ok(n >= minPer, `${c} has only ${n} images`);
    }
    assert.equal(
      pngsUnder(dir).length,
      classes.reduce((a, [, i]) => a + i.instances, 0),
    );
    const sources = fs.readFileSync(path.join(dir, 'SOURCES.md'), 'utf8');
    assert.match(sources, /\| package \| version \| licence\(s\) \|/);
    // Every package row names a licence read from its copyright file.
    const rows = sources.split('\n').filter((l) => /^\| [a-z0-9.+-]+ \| \S+ \| .+ \|$/.test(l));
    assert.ok(rows.length >= 1 && rows.every((r) => !r.includes('copyright file missing')), sources);
    const ds = await loadDataset(dir, { imageSize: m.size, channels });
    assert.equal(ds.data.classes.length, classes.length);
    assert.equal(ds.data.labels.length, pngsUnder(dir).length);
    if (m.splits) {
      assert.equal(ds.splitOrigin, 'folders');
      for (const s of ['train', 'val', 'test'] as const) assert.equal(ds.splits[s].length, m.splits[s], `${s} classes`);
    }
  });
}

test('characters-small: letters and ideographs only, from several scripts, each class with its own script', () => {
  const m = manifest(path.join(DATA, 'characters-small'));
  const scripts = new Set<string>();
  for (const c of Object.keys(m.classes)) {
    const [script, hex] = c.split('-');
    scripts.add(script);
    const ch = String.fromCodePoint(parseInt(hex, 16));
    assert.match(ch, /\p{L}/u, `${c} is not a letter`);
  }
  assert.ok(scripts.size >= 6, [...scripts].join(', '));
});

function debianHas(pkgs: string[]): boolean {
  return (
    pkgs.every((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.trim() === 'install ok installed') &&
    fs.existsSync('/usr/bin/python3')
  );
}

test(
  'the build is deterministic: textures-small rebuilt twice is byte-identical to the committed one',
  { skip: !debianHas(['python3-pil', 'gimp-data']) && 'needs Debian python3-pil and gimp-data (sh scripts/data/build-all.sh installs them)' },
  () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'textures-'));
    const digests = ['a', 'b'].map((k) => {
      const out = path.join(tmp, k);
      execFileSync('/usr/bin/python3', [path.join(ROOT, 'scripts/data/build_textures.py'), out, '--max-classes', '10', '--per-class', '10'], { stdio: 'pipe' });
      return manifest(out).sha256;
    });
    assert.equal(digests[0], digests[1]);
    assert.equal(
      digests[0],
      manifest(path.join(DATA, 'textures-small')).sha256,
      'the committed data/textures-small differs from a rebuild: sh scripts/data/build-all.sh small',
    );
    fs.rmSync(tmp, { recursive: true, force: true });
  },
);
