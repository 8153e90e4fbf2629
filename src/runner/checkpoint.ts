// Binary checkpoints: everything needed to continue a run exactly (meta-parameters, Adam moments
// and step count, the position in the episode stream) and to evaluate it alone (the full config).
//
// Layout, little-endian:
//   8 bytes   magic "RMETACKP"
//   u32       format version (CHECKPOINT_FORMAT)
//   u32       byte length of the JSON header
//   ...       JSON header (CheckpointHeader), UTF-8, padded with spaces to a multiple of 4 bytes
//   ...       float32 data: every tensor of header.tensors at its offset
//
// Written to a temp name and renamed, so a checkpoint file is either complete or absent; the
// reader still checks magic, size and a CRC-32 of the data, and names the file when they fail.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Config, resolveConfig } from '../core/config';
import { crc32 } from '../core/checksum';
import { UserError } from '../core/errors';
import { CheckpointHeaderSchema, type CheckpointHeaderOnDisk, type ModelSpec, type TensorEntry } from '../formats/checkpoint';
import { check } from '../formats/validate';
import { LearnerState, modelSpecOf } from '../core/meta/learner';
import { ParamArrays } from '../core/model/params';
import { checkpointFileName, listCheckpointFiles, RUN_FILES, writeFileAtomic } from './runStore';

export const CHECKPOINT_MAGIC = 'RMETACKP';
export const CHECKPOINT_FORMAT = 1;
/** Checkpoints a run keeps; older ones are deleted after a new one is written. */
export const DEFAULT_KEEP_CHECKPOINTS = 3;

/** Config keys that may change when a run is resumed: they do not change what is computed. */
export const RESUMABLE_KEYS = ['steps', 'checkpointEvery', 'backend', 'workers'] as const;

export type { TensorEntry };

/** A checkpoint's header (src/formats/checkpoint.ts), its config checked and completed. */
export type CheckpointHeader = Omit<CheckpointHeaderOnDisk, 'config'> & { config: Config };

export interface Checkpoint {
  file: string;
  header: CheckpointHeader;
  state: LearnerState;
}

/** sha1 over the config values that define what a run computes. */
export function configHash(cfg: Config): string {
  const keys = Object.keys(cfg)
    .filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k))
    .sort();
  const canonical = JSON.stringify(keys.map((k) => [k, cfg[k as keyof Config]]));
  return createHash('sha1').update(canonical).digest('hex');
}

function tensorEntries(state: LearnerState): { entries: TensorEntry[]; arrays: Float32Array[] } {
  const entries: TensorEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  const add = (prefix: string, group: ParamArrays) => {
    for (const name of Object.keys(group).sort()) {
      const { shape, data } = group[name];
      entries.push({ name: prefix + name, shape: shape.slice(), offset, length: data.length });
      arrays.push(data);
      offset += data.length;
    }
  };
  add('param/', state.params);
  add('adam/m/', state.adam.m);
  add('adam/v/', state.adam.v);
  return { entries, arrays };
}

/** The bytes of a checkpoint of `state` for a run with config `cfg`. */
export function encodeCheckpoint(state: LearnerState, cfg: Config): Uint8Array {
  if (os.endianness() !== 'LE') throw new Error('checkpoints are little-endian; this machine is big-endian');
  const { entries, arrays } = tensorEntries(state);
  const dataFloats = entries.reduce((n, e) => n + e.length, 0);
  const data = new Float32Array(dataFloats);
  entries.forEach((e, i) => data.set(arrays[i], e.offset));
  const dataBytes = new Uint8Array(data.buffer);
  const header: CheckpointHeader = {
    format: CHECKPOINT_FORMAT,
    step: state.step,
    createdAt: new Date().toISOString(),
    config: cfg,
    configHash: configHash(cfg),
    method: cfg.method,
    model: modelSpecOf(cfg),
    tensors: entries,
    adam: { t: state.adam.t },
    sampler: { episodeSeed: cfg.seed, nextEpisode: state.step * cfg.metaBatch, metaBatch: cfg.metaBatch },
    dataFloats,
    dataCrc32: crc32(dataBytes),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(16 + json.length + dataBytes.length);
  out.set(Buffer.from(CHECKPOINT_MAGIC, 'latin1'), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, CHECKPOINT_FORMAT, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(dataBytes, 16 + json.length);
  return out;
}

function bad(file: string, why: string, hint = 'delete it to resume from an older checkpoint, or start a new run'): UserError {
  return new UserError(`checkpoint ${file} ${why}; ${hint}`);
}

/**
 * Checks a parsed header against its declaration, so that a damaged or crafted file is an error
 * naming it, never a TypeError or a huge allocation further on.
 */
function checkHeader(header: unknown, file: string): CheckpointHeaderOnDisk {
  try {
    return check(CheckpointHeaderSchema, header, 'its header');
  } catch (e) {
    throw bad(file, `is corrupt: ${(e as Error).message}`);
  }
}

/** Parses checkpoint bytes; `file` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  if (bytes.length < 16) throw bad(file, `is truncated (${bytes.length} bytes, shorter than its 16-byte preamble)`);
  const magic = Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1');
  if (magic !== CHECKPOINT_MAGIC) throw bad(file, 'is not a robust-meta checkpoint (wrong magic bytes)', 'check the path');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.getUint32(8, true);
  if (format > CHECKPOINT_FORMAT) throw bad(file, `has format ${format}, newer than this robust-meta reads (${CHECKPOINT_FORMAT})`, 'update robust-meta');
  if (format < 1) throw bad(file, `has an unknown format ${format}`);
  const headerLen = view.getUint32(12, true);
  if (16 + headerLen > bytes.length) throw bad(file, `is truncated (its header needs ${16 + headerLen} bytes, the file has ${bytes.length})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 16, headerLen).toString('utf8'));
  } catch (e) {
    throw bad(file, `is corrupt: its header is not valid JSON (${(e as Error).message})`);
  }
  const header = checkHeader(parsed, file);
  const expected = 16 + headerLen + 4 * header.dataFloats;
  if (bytes.length < expected) throw bad(file, `is truncated (${bytes.length} bytes of ${expected})`);
  if (bytes.length > expected) throw bad(file, `is corrupt (${bytes.length} bytes, ${bytes.length - expected} more than its header describes)`);
  // Copy: the file's buffer may not be 4-byte aligned at the data offset.
  const dataBytes = new Uint8Array(expected - 16 - headerLen);
  dataBytes.set(bytes.subarray(16 + headerLen, expected));
  if (crc32(dataBytes) !== header.dataCrc32) throw bad(file, 'is corrupt: its data does not match its checksum');
  const data = new Float32Array(dataBytes.buffer, 0, header.dataFloats);
  const params: ParamArrays = {};
  const m: ParamArrays = {};
  const v: ParamArrays = {};
  for (const e of header.tensors) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (size !== e.length || e.offset < 0 || e.offset + e.length > header.dataFloats) throw bad(file, `is corrupt: tensor ${e.name} does not fit its data`);
    const arr = { shape: e.shape.slice(), data: data.slice(e.offset, e.offset + e.length) };
    if (e.name.startsWith('param/')) params[e.name.slice(6)] = arr;
    else if (e.name.startsWith('adam/m/')) m[e.name.slice(7)] = arr;
    else if (e.name.startsWith('adam/v/')) v[e.name.slice(7)] = arr;
    else throw bad(file, `is corrupt: unknown tensor ${e.name}`);
  }
  let config: Config;
  try {
    config = resolveConfig(header.config, `checkpoint ${file} (config)`);
  } catch (e) {
    throw bad(file, `has a config this version cannot use: ${(e as Error).message}`);
  }
  return { file, header: { ...header, config }, state: { step: header.step, params, adam: { t: header.adam.t, m, v } } };
}

/** Reads and verifies a checkpoint file. */
export function readCheckpoint(file: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`checkpoint ${file} does not exist`);
    throw new UserError(`cannot read checkpoint ${file} (${code ?? (e as Error).message})`);
  }
  return decodeCheckpoint(bytes, file);
}

/** Reads only the JSON header (for listings): no data check. */
export function readCheckpointHeader(file: string): CheckpointHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `checkpoint ${file} does not exist` : `cannot read checkpoint ${file} (${code ?? (e as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const pre = Buffer.alloc(16);
    if (fs.readSync(fd, pre, 0, 16, 0) < 16 || pre.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) throw bad(file, 'is not a robust-meta checkpoint');
    const len = pre.readUInt32LE(12);
    // The length field is checked against the file before anything is allocated for it.
    if (16 + len > size) throw bad(file, `is truncated (its header needs ${16 + len} bytes, the file has ${size})`);
    const json = Buffer.alloc(len);
    if (fs.readSync(fd, json, 0, len, 16) < len) throw bad(file, 'is truncated');
    let header: unknown;
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch (e) {
      throw bad(file, `is corrupt: its header is not valid JSON (${(e as Error).message})`);
    }
    const h = checkHeader(header, file);
    let config: Config;
    try {
      config = resolveConfig(h.config, `checkpoint ${file} (config)`);
    } catch (e) {
      throw bad(file, `has a config this version cannot use: ${(e as Error).message}`);
    }
    return { ...h, config };
  } finally {
    fs.closeSync(fd);
  }
}

const MODEL_KEYS: (keyof ModelSpec)[] = ['backbone', 'width', 'imageSize', 'channels', 'ways', 'projectionDim'];

/**
 * Throws a UserError naming the file when checkpoint `ckpt` cannot continue a run with config
 * `cfg`: another method or model, another config (other than RESUMABLE_KEYS), or tensors whose
 * names or shapes differ from the model's (`expected`, e.g. a fresh model's parameters).
 */
export function checkCheckpointMatches(ckpt: Checkpoint, cfg: Config, expected?: ParamArrays): void {
  const h = ckpt.header;
  const runModel = modelSpecOf(cfg);
  const modelDiffs = MODEL_KEYS.filter((k) => h.model[k] !== runModel[k]).map((k) => `${k} ${h.model[k]} (run: ${runModel[k]})`);
  if (h.method !== cfg.method) modelDiffs.unshift(`method ${h.method} (run: ${cfg.method})`);
  if (modelDiffs.length) throw bad(ckpt.file, `does not match the run's model: ${modelDiffs.join(', ')}`, 'use a checkpoint of this run');
  if (h.configHash !== configHash(cfg)) {
    const diffs = (Object.keys(cfg) as (keyof Config)[])
      .filter((k) => !(RESUMABLE_KEYS as readonly string[]).includes(k) && JSON.stringify(h.config[k]) !== JSON.stringify(cfg[k]))
      .map((k) => `${k} ${JSON.stringify(h.config[k])} (run: ${JSON.stringify(cfg[k])})`);
    throw bad(ckpt.file, `was written with another config: ${diffs.join(', ') || 'config hash differs'}`, 'use a checkpoint of this run');
  }
  if (expected) {
    const got = ckpt.state.params;
    const names = Object.keys(expected).sort();
    const missing = names.filter((n) => !got[n]);
    const extra = Object.keys(got).filter((n) => !expected[n]);
    const shapes = names.filter((n) => got[n] && JSON.stringify(got[n].shape) !== JSON.stringify(expected[n].shape));
    const problems = [
      ...(missing.length ? [`missing ${missing.join(', ')}`] : []),
      ...(extra.length ? [`unexpected ${extra.join(', ')}`] : []),
      ...shapes.map((n) => `${n} has shape [${got[n].shape}] where the model has [${expected[n].shape}]`),
    ];
    if (problems.length) throw bad(ckpt.file, `does not match the run's model: ${problems.join('; ')}`, 'use a checkpoint of this run');
  }
}

/**
 * Reads a just-written checkpoint back and compares its size and CRC-32 with the bytes meant for
 * it: a disk that took fewer bytes than it reported, or a file changed under us, is found here,
 * before older checkpoints are deleted in its favour. A mismatch removes the file.
 */
function verifyWritten(file: string, bytes: Uint8Array): void {
  let back: Buffer;
  try {
    back = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(
      `checkpoint ${file} cannot be read back after writing (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the older checkpoints are kept`,
    );
  }
  if (back.length !== bytes.length || crc32(back) !== crc32(bytes)) {
    fs.rmSync(file, { force: true });
    const what = back.length !== bytes.length ? `${back.length} bytes of ${bytes.length}` : 'the right size but other bytes';
    throw new UserError(`checkpoint ${file} read back as ${what} (is the disk full or failing?); it was deleted and the older checkpoints are kept`);
  }
}

/**
 * Writes the checkpoint of `state` into runDir/checkpoints/ (temp name, then rename), reads it
 * back to verify it, and only then deletes all but the newest `keep`: a failed write never costs
 * the last good checkpoint. Returns its path.
 */
export function writeCheckpoint(runDir: string, state: LearnerState, cfg: Config, keep = DEFAULT_KEEP_CHECKPOINTS): string {
  const dir = path.join(runDir, RUN_FILES.checkpoints);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, checkpointFileName(state.step));
  const bytes = encodeCheckpoint(state, cfg);
  writeFileAtomic(file, bytes);
  verifyWritten(file, bytes);
  const all = listCheckpointFiles(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) fs.rmSync(old.path, { force: true });
  return file;
}

/** The newest checkpoint file of a run folder, if any. */
export function latestCheckpoint(runDir: string): string | undefined {
  const all = listCheckpointFiles(runDir);
  return all.length ? all[all.length - 1].path : undefined;
}

/**
 * A checkpoint given as a file, or as a run folder (its newest checkpoint). For `eval`, which
 * takes either.
 */
export function resolveCheckpoint(ref: string): string {
  const p = path.resolve(ref);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new UserError(`checkpoint or run folder ${p} does not exist`);
  }
  if (!st.isDirectory()) return p;
  const newest = latestCheckpoint(p);
  if (!newest) throw new UserError(`run folder ${p} has no checkpoint yet (checkpoints/ is empty or missing)`);
  return newest;
}
