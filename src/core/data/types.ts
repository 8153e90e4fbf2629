// The shapes that data takes inside the engine. A dataset holds its images as 8-bit pixels (every
// source is 8-bit: decoded images, unsigned-byte IDX), a quarter of the memory of floats and no
// conversion on load; an episode holds float32 NHWC in [0, 1], as the models take them.

/** A labelled set of equally sized images, held as one contiguous array. */
export interface ImageSet {
  /** n * height * width * channels 8-bit values (0..255), NHWC. */
  pixels: Uint8Array;
  /** Class index of each image, into `classes`. */
  labels: Int32Array;
  height: number;
  width: number;
  channels: number;
  /** Class names, in a stable order (sorted folder names, or '0'..'9' for IDX). */
  classes: string[];
}

/** Which classes (indices into ImageSet.classes) are for meta-training, validation and testing. */
export interface ClassSplits {
  train: number[];
  val: number[];
  test: number[];
}

export interface Dataset {
  /** A short name for tables and reports (the folder's base name by default). */
  name: string;
  /** Where it was loaded from. */
  source: string;
  data: ImageSet;
  splits: ClassSplits;
  /**
   * How the splits were decided: 'folders', 'split-file', 'seeded', or 'builtin' (the documented
   * fixed split of 10-class IDX data such as Fashion-MNIST; see IDX10_SPLIT in splits.ts).
   */
  splitOrigin: 'folders' | 'split-file' | 'seeded' | 'builtin';
  /** Problems the loader worked around (skipped files, resized images, ...), to show the user. */
  warnings?: string[];
  /** How the load went. */
  loadInfo?: LoadInfo;
}

export interface LoadInfo {
  /** 'folder' for an image folder, 'idx' for IDX files. */
  kind: 'folder' | 'idx';
  /** 'hit': pixels came from the decoded-image cache; 'miss': decoded and cached; 'off': no cache dir. */
  cache: 'hit' | 'miss' | 'off';
  /** Image files found (folder) or images in the IDX files. */
  files: number;
  /** Wall time of the load in milliseconds. */
  ms: number;
}

export interface EpisodeSpec {
  ways: number;
  shots: number;
  queries: number;
}

/** One N-way K-shot task; labels are 0..ways-1, reshuffled per episode. */
export interface Episode extends EpisodeSpec {
  height: number;
  width: number;
  channels: number;
  /** ways * shots images, NHWC. */
  support: Float32Array;
  supportLabels: Int32Array;
  /** ways * queries images, NHWC. */
  query: Float32Array;
  queryLabels: Int32Array;
  /** The dataset class index behind each episode label. */
  classes: number[];
}
