import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experimentChildren, experimentDescription, experimentNodeView, isExperimentNode, type ExperimentEntry } from '../src/extension/experimentTreeModel';
import type { RunEntry } from '../src/extension/runFolder';

const run = (dir: string, state: RunEntry['state']) =>
  ({ id: dir.split('/').pop()!, dir, method: 'mavrl', state, interrupted: false, step: 4, totalSteps: 4, checkpoints: [], results: [] }) as unknown as RunEntry;

const exp: ExperimentEntry = {
  spec: '/w/tiny.experiment.json',
  name: 'tiny',
  outDir: '/w/experiments/out/tiny',
  progress: { state: 'running', done: 3, total: 10, etaSeconds: 125 },
  methods: [
    { method: 'mavrl', runs: [run('/w/experiments/out/tiny/runs/mavrl-seed0/r1', 'done'), run('/w/experiments/out/tiny/runs/mavrl-seed1/r2', 'running')] },
    { method: 'maml', runs: [] },
  ],
  results: [{ label: 'validation', path: '/w/experiments/out/tiny/results/validation.json' }],
};

test('an experiment node: state, jobs done/total and ETA; expands to its methods, then its results', () => {
  const v = experimentNodeView({ kind: 'experiment', exp });
  assert.equal(v.label, 'tiny');
  assert.match(v.description!, /^running · jobs 3\/10 · ETA /);
  assert.equal(v.contextValue, 'experiment.running');
  const kids = experimentChildren({ kind: 'experiment', exp });
  assert.deepEqual(
    kids.map((k) => k.kind),
    ['experiment-method', 'experiment-method', 'experiment-results'],
  );
});

test('a method node: its seed runs as ordinary run nodes; results expand to result files', () => {
  const m = { kind: 'experiment-method' as const, exp, method: 'mavrl', runs: exp.methods[0].runs };
  assert.equal(experimentNodeView(m).description, '2 runs, 1 done');
  const runs = experimentChildren(m);
  assert.ok(runs.every((r) => r.kind === 'run' && !isExperimentNode(r)));
  const results = experimentChildren({ kind: 'experiment-results', exp });
  assert.equal(results.length, 1);
  assert.equal(experimentNodeView(results[0] as never).contextValue, 'result');
});

test('an unreadable spec says why', () => {
  assert.equal(experimentDescription({ ...exp, problem: 'bad json' }), 'unreadable: bad json');
});
