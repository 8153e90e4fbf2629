// The tiny training setting that the CLI's kill-and-resume, reliability and Slurm tests share
// (16 px, width 6, 3-way: seconds per run on 2 cores), so that it lives in one place.
export const TINY_TRAIN_FLAGS: readonly string[] = [
  ...['--image-size', '16', '--width', '6', '--channels', '1', '--ways', '3'],
  ...['--queries', '2', '--meta-batch', '2', '--attack-steps', '2', '--seed', '7'],
];
