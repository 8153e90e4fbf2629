import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTask, summarizeDataset, type DatasetFacts } from '../src/extension/datasetSummary';

function facts(over: Partial<DatasetFacts> = {}): DatasetFacts {
  return {
    name: 'toy',
    source: '/data/toy',
    kind: 'folder',
    files: 0,
    height: 28,
    width: 28,
    channels: 1,
    classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    counts: [19, 19, 19, 19, 19, 20, 3],
    splits: { train: [0, 1, 2, 3, 4], val: [], test: [5, 6] },
    splitOrigin: 'folders',
    warnings: ['skipped a/bad.png: not an image'],
    ...over,
  };
}

test('summarizeDataset: format line, per-class counts with their split, per-split totals', () => {
  const s = summarizeDataset(facts());
  assert.equal(s.format, 'image folder (one sub-folder per class), 28×28 grey');
  assert.equal(s.images, 118);
  assert.deepEqual(s.classes[6], { name: 'g', split: 'test', count: 3 });
  assert.deepEqual(
    s.splits.find((x) => x.split === 'train'),
    { split: 'train', classes: 5, images: 95, minPerClass: 19, maxPerClass: 19 },
  );
  assert.deepEqual(
    s.splits.find((x) => x.split === 'val'),
    { split: 'val', classes: 0, images: 0, minPerClass: 0, maxPerClass: 0 },
  );
  assert.match(s.splitOrigin, /train\/ val\/ test\//);
});

test("summarizeDataset: the loader's warnings stay, unbalanced classes are added", () => {
  const s = summarizeDataset(facts());
  assert.equal(s.warnings[0], 'skipped a/bad.png: not an image');
  assert.ok(
    s.warnings.some((w) => /test classes are unbalanced: 3 to 20/.test(w)),
    JSON.stringify(s.warnings),
  );
});

test('summarizeDataset: tasks are checked per split; an empty split makes none', () => {
  const s = summarizeDataset(facts());
  assert.ok(s.tasks.every((t) => t.split !== 'val'));
  const train51 = s.tasks.find((t) => t.split === 'train' && t.ways === 5 && t.shots === 1)!;
  assert.equal(train51.ok, true);
  const train55 = s.tasks.find((t) => t.split === 'train' && t.ways === 5 && t.shots === 5)!;
  assert.equal(train55.ok, false);
  assert.match(train55.why!, /19 images, fewer than 5 shots \+ 15 queries/);
  const test51 = s.tasks.find((t) => t.split === 'test' && t.ways === 5 && t.shots === 1)!;
  assert.match(test51.why!, /test has 2 classes, fewer than 5 ways/);
});

test('checkTask: exactly enough classes and images is enough', () => {
  assert.equal(checkTask({ split: 'train', classes: 5, images: 80, minPerClass: 16, maxPerClass: 16 }, { ways: 5, shots: 1, queries: 15 }).ok, true);
  assert.equal(checkTask({ split: 'train', classes: 4, images: 80, minPerClass: 20, maxPerClass: 20 }, { ways: 5, shots: 1, queries: 15 }).ok, false);
});

test('summarizeDataset: IDX with the built-in split, RGB', () => {
  const s = summarizeDataset(facts({ kind: 'idx', channels: 3, splitOrigin: 'builtin', warnings: [] }));
  assert.match(s.format, /^IDX files, 28×28 RGB$/);
  assert.match(s.splitOrigin, /fixed split/);
});
