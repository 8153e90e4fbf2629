// The JSON header of a checkpoint file (the binary layout is in runner/checkpoint.ts): what a
// checkpoint says about itself, declared once with its validator. Dependency-free.
import { Type, type Static } from '@sinclair/typebox';

/** A whole number that indexes memory: checked before anything is allocated for it. */
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** The architecture of a model (core/model): what its parameters' names and shapes follow from. */
export const ModelSpecSchema = Type.Object({
  backbone: Type.Union([Type.Literal('conv4'), Type.Literal('resnet12')]),
  width: Type.Integer(),
  imageSize: Type.Integer(),
  channels: Type.Integer(),
  /** Outputs of the classifier head. */
  ways: Type.Integer(),
  projectionDim: Type.Integer(),
  /** Initial classifier head (default random). */
  headInit: Type.Optional(Type.Union([Type.Literal('random'), Type.Literal('zero')])),
});
export type ModelSpec = Static<typeof ModelSpecSchema>;

export const TensorEntrySchema = Type.Object({
  /** 'param/<name>', 'adam/m/<name>' or 'adam/v/<name>'. */
  name: Type.String(),
  shape: Type.Array(Count, { maxItems: 8 }),
  /** Offset into the data, in float32 values. */
  offset: Count,
  length: Count,
});
export type TensorEntry = Static<typeof TensorEntrySchema>;

/**
 * The header as readers accept it. The config inside is any object: core/config.ts's
 * resolveConfig checks it and fills keys added since (the Config type of a decoded header).
 */
export const CheckpointHeaderSchema = Type.Object({
  format: Type.Integer({ minimum: 1 }),
  /** Meta-steps completed. */
  step: Count,
  createdAt: Type.String(),
  /** The run's full config: a checkpoint can be evaluated without its run folder. */
  config: Type.Record(Type.String(), Type.Unknown()),
  /** sha1 of the config without RESUMABLE_KEYS (runner/checkpoint.ts). */
  configHash: Type.String(),
  method: Type.String(),
  model: ModelSpecSchema,
  tensors: Type.Array(TensorEntrySchema),
  adam: Type.Object({ t: Count }),
  /**
   * Position in the seeded streams. Episodes of step s are episodeAt(episodeSeed, s * metaBatch + i)
   * and task randomness is taskRng(seed, s, i), so the step alone places a resumed run.
   */
  sampler: Type.Object({ episodeSeed: Type.Integer(), nextEpisode: Count, metaBatch: Count }),
  dataFloats: Count,
  /** CRC-32 of the float32 data. */
  dataCrc32: Count,
});
export type CheckpointHeaderOnDisk = Static<typeof CheckpointHeaderSchema>;
