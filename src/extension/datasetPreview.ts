// Runs the dataset preview in a short-lived child process (datasetPreviewMain.js) on the runtime a
// wasm worker gets, as "Show Backend" does.
import * as path from 'path';
import type { DatasetFacts } from './datasetSummary';
import { askChild } from './childOnce';
import { forkOptionsFor } from './workerAdapter';

export type DatasetPreview = { facts: DatasetFacts; samples: string[][]; error?: undefined } | { error: string; facts?: undefined; samples?: undefined };

export function previewDataset(dir: string, timeoutMs = 300_000): Promise<DatasetPreview> {
  return askChild<DatasetPreview>(path.join(__dirname, 'datasetPreviewMain.js'), [dir], forkOptionsFor('wasm'), `reading ${dir}`, timeoutMs);
}
