// Child process of "Preview Dataset" (see datasetPreview.ts): loads the folder with the engine's
// own loader (the same detection, splits and warnings a run gets), and sends back its facts and a
// few sample images per class as PNG data URLs, then exits. Decoding a large folder does not
// belong in the extension host.
import { loadDataset } from '../core/data/load';
import { encodePng } from '../core/data/png';
import type { DatasetPreview } from './datasetPreview';

/** Sample images per class, and classes with samples, at most. */
const SAMPLES_PER_CLASS = 6;
const MAX_SAMPLED_CLASSES = 64;

async function main(): Promise<void> {
  const dir = process.argv[2];
  let preview: DatasetPreview;
  try {
    const ds = await loadDataset(dir, { badFiles: 'skip' });
    const { pixels, labels, height, width, channels, classes } = ds.data;
    const counts = classes.map(() => 0);
    const samples: string[][] = classes.map(() => []);
    const size = height * width * channels;
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      counts[c]++;
      if (c < MAX_SAMPLED_CLASSES && samples[c].length < SAMPLES_PER_CLASS) {
        const png = encodePng({ width, height, channels, data: pixels.subarray(i * size, (i + 1) * size) });
        samples[c].push(`data:image/png;base64,${png.toString('base64')}`);
      }
    }
    preview = {
      facts: {
        name: ds.name,
        source: ds.source,
        kind: ds.loadInfo?.kind ?? 'folder',
        files: ds.loadInfo?.files ?? labels.length,
        height,
        width,
        channels,
        classes,
        counts,
        splits: ds.splits,
        splitOrigin: ds.splitOrigin,
        warnings: ds.warnings ?? [],
      },
      samples,
    };
  } catch (e) {
    preview = { error: (e as Error).message };
  }
  process.send?.(preview, () => process.exit(0));
}

void main();
