// Experiment spec files (*.experiment.json) as the extension knows them: the name pattern and a
// starter spec small enough to finish in minutes on a laptop. Pure: no vscode import.
export const EXPERIMENT_FILE_GLOB = '**/*.experiment.json';

export function isExperimentFileName(file: string): boolean {
  return /\.experiment\.json$/.test(file);
}

/** A starter spec: the pre-registered comparison (mavrl and aq), one seed, the bundled data, a tiny budget. Validated by
 * schemas/experiment.schema.json (the editor completes and checks it). */
export function newExperimentText(name: string): string {
  const spec = {
    $comment:
      'robust-meta experiment: methods x seeds trained on the source, evaluated on the unseen domain. "Run Experiment" (editor title, explorer, CodeLens) runs it; finished jobs are reused when it runs again.',
    name,
    source: 'bundled:fashion-mnist-small',
    unseen: 'bundled:glyphs',
    methods: ['mavrl', 'aq'],
    seeds: [0],
    train: { imageSize: 16, channels: 1, width: 8, ways: 3, shots: 1, queries: 3, metaBatch: 1, attackSteps: 1, steps: 40, checkpointEvery: 20, workers: 1 },
    validation: { method: 'mavrl', key: 'lambda', values: [1], episodes: 8 },
    eval: { shots: [1], episodes: 16, queries: 3, attackSteps: 2, curve255: [0, 4, 8], strong: { steps: 4, restarts: 0, episodes: 8 } },
    unseenSplit: { val: 4, test: 5 },
    parallel: 1,
  };
  return JSON.stringify(spec, null, 2) + '\n';
}
