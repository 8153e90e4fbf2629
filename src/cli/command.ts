// The shape of a CLI command, and options several commands share.
import { OptionSpec, ParsedArgs } from './args';

export interface Command {
  name: string;
  summary: string;
  /** Usage line after 'robust-meta <name>'. */
  usage: string;
  options: OptionSpec[];
  /** Extra help text (examples, notes). */
  details?: string;
  run(args: ParsedArgs): Promise<number>;
}

export const HELP_OPTION: OptionSpec = { flag: 'help', short: 'h', type: 'boolean', description: 'Show this help.' };
export const JSON_OPTION: OptionSpec = { flag: 'json', type: 'boolean', description: 'Machine-readable output on stdout (JSON).' };
export const RUNS_DIR_OPTION: OptionSpec = { flag: 'runs-dir', type: 'string', placeholder: 'dir', default: 'runs', description: 'Folder of run folders.' };
export const CONFIG_FILE_OPTION: OptionSpec = {
  flag: 'config',
  type: 'string',
  placeholder: 'file.json',
  description: 'Config file (JSON of config keys; flags override it). Schema: schemas/config.schema.json.',
};

export function runsDirOf(args: ParsedArgs): string {
  return typeof args.options['runs-dir'] === 'string' ? (args.options['runs-dir'] as string) : 'runs';
}
