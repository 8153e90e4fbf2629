import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readExperimentSpec, seedsOf, unseenDomains } from '../src/runner/experiment';
import { overallClaim, type VerdictKind } from '../src/cli/resultsDoc';

const root = path.join(__dirname, '..', '..');

function writeSpec(spec: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-'));
  const file = path.join(dir, 'spec.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

test('the shipped specs read, and the full-strength one pre-registers its verdict rule and seeds', () => {
  for (const f of fs.readdirSync(path.join(root, 'experiments')).filter((n) => n.endsWith('.json'))) readExperimentSpec(path.join(root, 'experiments', f));
  const s = readExperimentSpec(path.join(root, 'experiments', 'full-strength.json'));
  assert.match(s.verdict!.rule, /95% bootstrap interval/);
  assert.equal(s.verdict!.cleanMargin, 2);
  assert.equal(s.validation.on, 'source');
  assert.deepEqual(
    [seedsOf(s, 'mavrl').length, seedsOf(s, 'aq').length, seedsOf(s, 'rmaml').length, seedsOf(s, 'adml').length, seedsOf(s, 'maml').length],
    [5, 5, 3, 3, 3],
  );
  const domains = unseenDomains(s, path.join(root, 'experiments'));
  assert.ok(domains.length >= 2);
  assert.ok(domains.every((d) => d.label === `unseen-${d.name}`));
  assert.ok(s.eval.episodes >= 100 && s.eval.strong.episodes >= 20);
  assert.deepEqual(s.eval.shots, [1, 5]);
});

test('a spec with several unseen domains is checked with messages that say what to fix', () => {
  const base = JSON.parse(fs.readFileSync(path.join(root, 'experiments', 'full-strength.json'), 'utf8'));
  assert.throws(() => readExperimentSpec(writeSpec({ ...base, unseen: [] })), /\/unseen: expected array length to be greater or equal to 1/);
  assert.throws(
    () => readExperimentSpec(writeSpec({ ...base, unseen: [{ name: 'a b', path: 'x', val: 0, test: 5 }] })),
    /\/unseen\/0\/name: expected string to match/,
  );
  assert.throws(
    () =>
      readExperimentSpec(
        writeSpec({
          ...base,
          unseen: [
            { name: 'a', path: 'x', val: 0, test: 5 },
            { name: 'a', path: 'y', val: 0, test: 5 },
          ],
        }),
      ),
    /names must differ/,
  );
  assert.throws(() => readExperimentSpec(writeSpec({ ...base, validation: { ...base.validation, on: 'unseen' } })), /needs val >= 1 classes/);
  assert.throws(() => readExperimentSpec(writeSpec({ ...base, methodSeeds: { rocl: [0] } })), /\/methodSeeds: names rocl, which is not in 'methods'/);
  assert.throws(() => readExperimentSpec(writeSpec({ ...base, verdict: { rule: 'x' } })), /\/verdict\/cleanMargin: expected required property/);
});

test('the one-domain form keeps its label and split', () => {
  const s = readExperimentSpec(path.join(root, 'experiments', 'unseen-domain.json'));
  const [d] = unseenDomains(s, path.join(root, 'experiments'));
  assert.equal(d.label, 'unseen');
  assert.deepEqual([d.val, d.test], [8, 16]);
  assert.deepEqual(seedsOf(s, 'maml'), s.seeds);
});

test('the overall claim follows the pre-registered rule over the unseen domains', () => {
  const m = (o: Record<string, VerdictKind[]>) => overallClaim(new Map(Object.entries(o)));
  assert.match(m({ icons: ['mavrl', 'none'], textures: ['none', 'mavrl'] }), /^the claim holds/);
  assert.match(m({ icons: ['mavrl', 'mavrl'], textures: ['aq', 'mavrl'] }), /^the claim fails \(aq beats/);
  assert.match(m({ icons: ['none', 'not-counted'], textures: ['none', 'no-verdict'] }), /^the claim fails \(mavrl beats aq on no/);
  assert.match(m({ icons: ['mavrl', 'none'], textures: ['none', 'none'] }), /^mixed/);
});
