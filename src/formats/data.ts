// Files of the data layer: a dataset's split file (splits.json, core/data/splits.ts), and the index
// of a decoded-image cache entry (core/data/cache.ts), beside its binary file of labels and pixels.
// Dependency-free.
import { Type, type Static } from '@sinclair/typebox';

const Positive = Type.Integer({ minimum: 1 });

const ClassNames = Type.Array(Type.Union([Type.String(), Type.Number()]), { description: 'Class names (folder names; numbers for IDX labels).' });

/** A dataset's splits.json: which classes train, validate and test; a missing key means no classes. */
export const SplitFileSchema = Type.Object(
  { train: Type.Optional(ClassNames), val: Type.Optional(ClassNames), test: Type.Optional(ClassNames) },
  { additionalProperties: false, title: 'robust-meta dataset splits (splits.json)' },
);
export type SplitFile = Static<typeof SplitFileSchema>;

/** `<cacheDir>/<hash>.json`: what the binary beside it holds and how to verify it. */
export const CacheIndexSchema = Type.Object({
  format: Type.Literal('robust-meta-image-cache'),
  version: Type.Integer(),
  source: Type.String(),
  options: Type.Unknown(),
  fingerprint: Type.String(),
  n: Positive,
  height: Positive,
  width: Positive,
  channels: Positive,
  classes: Type.Array(Type.String()),
  warnings: Type.Array(Type.String()),
  binBytes: Type.Integer({ minimum: 0 }),
  /** 'crc32:<hex>' or 'sha1:<hex>' of the binary file. */
  checksum: Type.String(),
});
export type CacheIndex = Static<typeof CacheIndexSchema>;
