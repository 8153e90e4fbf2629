// The file formats declared in src/formats/: the published JSON Schemas are the generated ones,
// the repository's own files match their declarations, and a bad file is an error naming the file
// and the path inside it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { configJsonSchema } from '../src/formats/config';
import { ExperimentSpecSchema } from '../src/formats/experiment';
import { RunStatusFileSchema } from '../src/formats/run';
import { publishedSchemas } from '../src/formats/schemas';
import { check, parseJson } from '../src/formats/validate';

const ROOT = path.resolve(__dirname, '..', '..');

test('schemas/config.schema.json is what configJsonSchema() generates', () => {
  const file = path.join(ROOT, 'schemas', 'config.schema.json');
  assert.ok(fs.existsSync(file), 'run npm run schema to create it');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), configJsonSchema(), 'schemas/config.schema.json is stale: run npm run schema');
});

test('every schema in schemas/ is what the declarations generate', () => {
  const schemas = publishedSchemas();
  assert.deepEqual(Object.keys(schemas).sort(), [
    'config.schema.json',
    'experiment.schema.json',
    'results.schema.json',
    'splits.schema.json',
    'status.schema.json',
  ]);
  for (const [name, schema] of Object.entries(schemas)) {
    const file = path.join(ROOT, 'schemas', name);
    assert.ok(fs.existsSync(file), `${name} is missing: run npm run schema`);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), schema, `schemas/${name} is stale: run npm run schema`);
  }
});

test("the repository's experiment specs match their declaration", () => {
  const dir = path.join(ROOT, 'experiments');
  const specs = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  assert.ok(specs.length > 0);
  for (const n of specs) parseJson(ExperimentSpecSchema, fs.readFileSync(path.join(dir, n), 'utf8'), n);
});

test('a value that does not match names the source, the JSON path, what was expected and what was found', () => {
  const status = { format: 1, state: 'exploded', step: -1, totalSteps: 2, updatedAt: 'now' };
  assert.throws(
    () => check(RunStatusFileSchema, status, 'runs/x/status.json'),
    (e: Error) =>
      e.name === 'UserError' &&
      /^runs\/x\/status\.json: \/state: expected one of running, done, failed, stopped, got "exploded"; \/step: .*got -1/.test(e.message),
  );
  assert.throws(() => parseJson(RunStatusFileSchema, '{"format":', 'status.json'), /status\.json: not valid JSON/);
  assert.deepEqual(parseJson(RunStatusFileSchema, '\uFEFF' + JSON.stringify({ ...status, state: 'done', step: 2 }), 's'), {
    ...status,
    state: 'done',
    step: 2,
  });
});
