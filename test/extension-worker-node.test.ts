// Which executable runs the extension's worker: VS Code's Electron, or a real Node for the backends
// that cannot run under Electron (robustMeta.nodePath, else node on PATH).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { electronRefusal } from '../src/core/realNode';
import type { Job } from '../src/runner/protocol';
import { findNodeOnPath, jobBackend, RuntimeEnv, workerRuntime } from '../src/extension/workerNode';

const ELECTRON = '/opt/vscode/code';
const NODE = path.join('/usr/local/bin', 'node');

function env(over: Partial<RuntimeEnv> = {}, executables: string[] = [NODE]): RuntimeEnv {
  return {
    nodePathSetting: '',
    electronPath: ELECTRON,
    pathVariable: '/usr/bin:/usr/local/bin',
    platform: 'linux',
    isExecutable: (f) => executables.includes(f),
    ...over,
  };
}

test("wasm and cpu stay in VS Code's runtime, whatever the setting", () => {
  for (const backend of ['wasm', 'cpu']) {
    for (const e of [env(), env({ nodePathSetting: NODE })]) {
      const rt = workerRuntime(backend, e);
      assert.ok(rt.ok && rt.electron && rt.execPath === ELECTRON, `${backend}: ${JSON.stringify(rt)}`);
    }
  }
});

test('webgpu, tensorflow and tensorflow-gpu run on node from PATH, or on robustMeta.nodePath when set', () => {
  for (const backend of ['webgpu', 'tensorflow', 'tensorflow-gpu']) {
    const fromPath = workerRuntime(backend, env());
    assert.ok(fromPath.ok && !fromPath.electron && fromPath.execPath === NODE, JSON.stringify(fromPath));
    const custom = '/home/me/.nvm/versions/node/v22.1.0/bin/node';
    const set = workerRuntime(backend, env({ nodePathSetting: custom }, [NODE, custom]));
    assert.ok(set.ok && set.execPath === custom, JSON.stringify(set));
  }
});

test('a backend that needs Node says what to do when there is none, or when the setting is wrong', () => {
  const none = workerRuntime('webgpu', env({}, []));
  assert.ok(!none.ok);
  assert.match(
    none.message,
    /webgpu backend cannot run in VS Code's own runtime .*no Node\.js was found on PATH: install Node\.js >= 20\.9, or set robustMeta\.nodePath/,
  );
  const wrong = workerRuntime('tensorflow', env({ nodePathSetting: '/nowhere/node' }));
  assert.ok(!wrong.ok);
  assert.match(wrong.message, /robustMeta\.nodePath is '\/nowhere\/node', which is not an executable file/);
});

test('auto moves to a real Node only when robustMeta.nodePath names one', () => {
  const plain = workerRuntime('auto', env());
  assert.ok(plain.ok && plain.electron, 'a node on PATH may be too old: auto keeps to Electron without the setting');
  const set = workerRuntime('auto', env({ nodePathSetting: NODE }));
  assert.ok(set.ok && !set.electron && set.execPath === NODE);
});

test('node is looked up in PATH order, with Windows names and separators', () => {
  assert.equal(findNodeOnPath(env({ pathVariable: '/a:/b:/c' }, ['/b/node', '/c/node'])), '/b/node');
  assert.equal(findNodeOnPath(env({ pathVariable: '' }, [NODE])), undefined);
  const win = path.join('C:\\Program Files\\nodejs', 'node.exe');
  assert.equal(findNodeOnPath(env({ platform: 'win32', pathVariable: 'C:\\Windows;C:\\Program Files\\nodejs' }, [win])), win);
});

test("the backend of a job: overrides, then its config, then the resumed run's config, else auto", () => {
  const fromRun = (dir: string) => (dir === 'runs/a' ? 'webgpu' : undefined);
  const cfg = { backend: 'tensorflow' } as Job extends { config?: infer C } ? C : never;
  assert.equal(jobBackend({ kind: 'train', runDir: 'runs/a', resume: true, overrides: { backend: 'wasm' } }, fromRun), 'wasm');
  assert.equal(jobBackend({ kind: 'train', runDir: 'runs/b', resume: false, config: cfg }, fromRun), 'tensorflow');
  assert.equal(jobBackend({ kind: 'train', runDir: 'runs/a', resume: true }, fromRun), 'webgpu');
  assert.equal(jobBackend({ kind: 'train', runDir: 'runs/b', resume: true }, fromRun), 'auto');
  assert.equal(jobBackend({ kind: 'eval', args: { checkpoints: [], data: '', out: '', options: { backend: 'webgpu' } } }, fromRun), 'webgpu');
  assert.equal(jobBackend({ kind: 'bench', args: {} }, fromRun), 'auto');
});

test('under Electron the worker refuses the native backends by name, and nothing else', () => {
  const electron = { ...process.versions, electron: '35.5.1' } as NodeJS.ProcessVersions;
  assert.match(electronRefusal('webgpu', electron) ?? '', /cannot run inside Electron 35\.5\.1 .*robustMeta\.nodePath/);
  assert.equal(electronRefusal('wasm', electron), undefined);
  assert.equal(electronRefusal('webgpu', { ...process.versions, electron: undefined } as unknown as NodeJS.ProcessVersions), undefined);
});
