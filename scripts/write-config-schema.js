// Writes schemas/config.schema.json from configJsonSchema() (src/core/config.ts), the one table
// of settings. Run after a build: `npm run schema`. test/cli.test.ts fails when the file is stale.
const fs = require('fs');
const path = require('path');
const { configJsonSchema } = require('../out/src/core/config');

const file = path.join(__dirname, '..', 'schemas', 'config.schema.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), file)}`);
