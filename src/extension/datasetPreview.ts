// Runs the dataset preview in a short-lived child process (datasetPreviewMain.js) on the runtime a
// wasm worker gets, as "Show Backend" does.
import { fork } from 'child_process';
import * as path from 'path';
import type { DatasetFacts } from './datasetSummary';
import { forkOptionsFor } from './workerAdapter';

export type DatasetPreview = { facts: DatasetFacts; samples: string[][]; error?: undefined } | { error: string; facts?: undefined; samples?: undefined };

export function previewDataset(dir: string, timeoutMs = 300_000): Promise<DatasetPreview> {
  return new Promise((resolve, reject) => {
    const { execPath, env } = forkOptionsFor('wasm');
    const child = fork(path.join(__dirname, 'datasetPreviewMain.js'), [dir], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execPath, execArgv: [], env });
    let stderr = '';
    let result: DatasetPreview | undefined;
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('message', (m) => (result = m as DatasetPreview));
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`reading ${dir} took more than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`the dataset preview exited with code ${code}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`));
    });
  });
}
