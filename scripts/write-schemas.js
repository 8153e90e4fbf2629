// Writes the JSON Schemas of schemas/ from the declarations in src/formats/ (publishedSchemas()).
// Run after a build: `npm run schema`. test/formats.test.ts fails when a file is stale.
const fs = require('fs');
const path = require('path');
const { publishedSchemas } = require('../out/src/formats/schemas');

const dir = path.join(__dirname, '..', 'schemas');
fs.mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(publishedSchemas())) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(schema, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
