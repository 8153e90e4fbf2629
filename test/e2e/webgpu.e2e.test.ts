/**
 * The extension trains on the webgpu backend in a real VS Code: VS Code's Electron cannot load
 * Dawn, so the worker must run on the Node.js named by robustMeta.nodePath (here the Node running
 * this test). Without a GPU the adapter is SwiftShader (scripts/setup-vulkan.sh), which is slow: the
 * run is three meta-steps of a tiny model. What is checked is on disk, where the extension's worker
 * writes it: the run finishes, and its config.json says it ran on webgpu and names the adapter.
 *
 * Skipped, with the reason, where the webgpu backend cannot start here (no Dawn package, no Vulkan
 * driver and no SwiftShader), as the webgpu unit tests are.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT_DIR, e2eSkipReason, killAll, repoVsix, withVSCode } from './harness';
import { webgpuUnavailable } from '../helpers/webgpu';

after(killAll);

const SESSION = 'webgpu';
const WORKSPACE = path.join(OUTPUT_DIR, `${SESSION}-workspace`);
const CONFIG = 'gpu.robust-meta.json';
const MINUTE = 60_000;

const skip = e2eSkipReason() || (!repoVsix() && 'no robust-meta.vsix: run `npm run package` (npm run test:e2e does)') || webgpuUnavailable();

interface RunFiles {
  id: string;
  state?: string;
  step?: number;
  backend?: string;
  adapter?: { vendor: string; architecture: string; description: string; software: boolean };
}

/** The run folders of the workspace's runs/ with what their status.json and config.json say. */
function runs(): RunFiles[] {
  const dir = path.join(WORKSPACE, 'runs');
  if (!fs.existsSync(dir)) return [];
  const read = (f: string) => {
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch {
      return {}; // not written yet, or being replaced
    }
  };
  return fs.readdirSync(dir).map((id) => {
    const status = read(path.join(dir, id, 'status.json'));
    const config = read(path.join(dir, id, 'config.json'));
    return { id, state: status.state, step: status.step, backend: config.backend, adapter: config.adapter };
  });
}

test('the extension trains on webgpu, its worker on the Node of robustMeta.nodePath', { skip, timeout: 20 * MINUTE }, async (t) => {
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  fs.mkdirSync(WORKSPACE, { recursive: true });
  const config = {
    backend: 'webgpu',
    imageSize: 16,
    channels: 1,
    width: 4,
    ways: 3,
    shots: 1,
    queries: 2,
    metaBatch: 1,
    attackSteps: 1,
    steps: 3,
    checkpointEvery: 3,
  };
  fs.writeFileSync(path.join(WORKSPACE, CONFIG), JSON.stringify(config, null, 2) + '\n');
  await withVSCode(
    {
      name: SESSION,
      workspace: WORKSPACE,
      vsix: [repoVsix()!],
      settings: { 'robustMeta.nodePath': process.execPath, 'robustMeta.defaultConfig': CONFIG },
      // webgpuUnavailable() pointed this process at SwiftShader where the machine has no driver.
      env: process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES } : {},
    },
    async (vs) => {
      await vs.step('start-training', async () => {
        await vs.quickInput.runCommand('Robust Meta: Start Training', { timeout: MINUTE });
      });
      await vs.step('training-finishes', async () => {
        const deadline = Date.now() + 15 * MINUTE;
        let seen: RunFiles[] = [];
        while (Date.now() < deadline) {
          seen = runs();
          if (seen.some((r) => r.state && r.state !== 'running')) break;
          await new Promise((r) => setTimeout(r, 2_000));
        }
        await vs.screenshot('after-training');
        assert.equal(seen.length, 1, `one run folder expected in ${WORKSPACE}/runs, found ${JSON.stringify(seen)}`);
        const run = seen[0];
        t.diagnostic(`run ${run.id}: ${run.state} at step ${run.step} on ${run.backend} (${JSON.stringify(run.adapter)})`);
        assert.equal(run.state, 'done', `the run ended ${run.state ?? 'without a status'} (see test-output/e2e/${SESSION}/)`);
        assert.equal(run.step, config.steps);
        assert.equal(run.backend, 'webgpu');
        assert.ok(run.adapter && (run.adapter.vendor || run.adapter.description), 'config.json names no adapter');
      });
    },
  );
});
