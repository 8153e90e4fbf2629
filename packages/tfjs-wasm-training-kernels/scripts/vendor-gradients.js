// tfjs-core's CommonJS bundle registers no gradients (the union package @tensorflow/tfjs does,
// together with layers, converter, data and webgl that training on wasm does not need). This
// bundles tfjs-core's own register_all_gradients module into one CommonJS file,
// out/vendor/tfjs-gradients.js, which registerTrainingGradients() loads. The copy of core code
// inside it shares the engine and the registries with the real tfjs-core, which tfjs keeps on the
// global object.
const esbuild = require('esbuild');
const path = require('path');

const root = path.join(__dirname, '..');
esbuild.buildSync({
  entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js', { paths: [root] })],
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outfile: path.join(root, 'out/vendor/tfjs-gradients.js'),
  logLevel: 'warning',
});
