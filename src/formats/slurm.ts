// The Slurm executor's files: its options (a config file's or a spec's `slurm` section, or CLI
// flags), the job record each run folder keeps of its submissions (slurm/jobs.json), and the exit
// each batch script records of itself (slurm/exit-<job id>.json), since without slurmdbd the
// scheduler forgets a finished job after MinJobAge.
import { Static, Type } from '@sinclair/typebox';

export const SlurmOptionsSchema = Type.Object(
  {
    partition: Type.Optional(Type.String({ minLength: 1, description: 'sbatch --partition' })),
    time: Type.Optional(Type.String({ pattern: '^[0-9:-]+$', description: 'sbatch --time: minutes, MM:SS, HH:MM:SS or D-HH:MM:SS' })),
    cpusPerTask: Type.Optional(Type.Integer({ minimum: 1, description: 'sbatch --cpus-per-task' })),
    gpusPerTask: Type.Optional(Type.Integer({ minimum: 0, description: 'sbatch --gpus-per-task' })),
    mem: Type.Optional(Type.String({ pattern: '^[0-9]+[KMGT]?$', description: 'sbatch --mem, e.g. 4G' })),
    account: Type.Optional(Type.String({ minLength: 1, description: 'sbatch --account' })),
    /** Lines added to the batch script's header as they are, e.g. "--qos=long" or "#SBATCH --constraint=a100". */
    sbatchExtra: Type.Optional(Type.Array(Type.String(), { description: 'extra sbatch options, one per #SBATCH line' })),
    /** Shell lines run before robust-meta on the compute node, e.g. "module load nodejs/20". */
    setup: Type.Optional(Type.Array(Type.String(), { description: 'shell lines run before robust-meta on the node' })),
    /** Seconds before the time limit when the job is told to checkpoint and requeue itself. */
    signalSeconds: Type.Optional(Type.Integer({ minimum: 10, description: 'seconds before the time limit to checkpoint and requeue' })),
  },
  { additionalProperties: false },
);
export type SlurmOptions = Static<typeof SlurmOptionsSchema>;

export const SLURM_JOB_KINDS = ['train', 'experiment'] as const;

export const SlurmSubmissionSchema = Type.Object(
  {
    jobId: Type.String({ pattern: '^[0-9]+$' }),
    submittedAt: Type.String(),
    /** The batch script, relative to the run (or experiment) folder. */
    script: Type.String(),
    /** For an experiment's job arrays: what the array ran, e.g. "train phase 1 (6 runs)". */
    label: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SlurmSubmission = Static<typeof SlurmSubmissionSchema>;

export const SlurmJobRecordSchema = Type.Object(
  {
    format: Type.Literal(1),
    kind: Type.Union(SLURM_JOB_KINDS.map((k) => Type.Literal(k))),
    /** Every submission of this folder, oldest first; the last one is the current job. */
    submissions: Type.Array(SlurmSubmissionSchema),
  },
  { additionalProperties: false },
);
export type SlurmJobRecord = Static<typeof SlurmJobRecordSchema>;

export const SlurmExitSchema = Type.Object({
  jobId: Type.String(),
  /** Set for a task of a job array. */
  arrayTask: Type.Optional(Type.Integer()),
  exitCode: Type.Integer(),
  endedAt: Type.String(),
  /** True when the job asked to be requeued (time limit near): it runs again. */
  requeued: Type.Boolean(),
});
export type SlurmExit = Static<typeof SlurmExitSchema>;
