import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isExperimentFileName, newExperimentText } from '../src/extension/experimentSpec';
import { ExperimentSpecSchema } from '../src/formats/experiment';
import { parseJson } from '../src/formats/validate';

test('the starter experiment spec is a valid spec under its name, on the bundled data', () => {
  const spec = parseJson(ExperimentSpecSchema, newExperimentText('tiny'), 'tiny.experiment.json');
  assert.equal(spec.name, 'tiny');
  assert.equal(spec.source, 'bundled:fashion-mnist-small');
  assert.equal(spec.unseen, 'bundled:glyphs');
  assert.ok(spec.methods.includes('mavrl') && spec.methods.length >= 2);
});

test('isExperimentFileName: *.experiment.json only', () => {
  assert.equal(isExperimentFileName('/w/a.experiment.json'), true);
  assert.equal(isExperimentFileName('/w/a.robust-meta.json'), false);
  assert.equal(isExperimentFileName('/w/experiment.json'), false);
});
