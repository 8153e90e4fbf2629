// robust-meta: the command line over the same engine and runner as the VS Code extension.
// Exit codes: 0 ok, 1 failure, 2 usage or config error, 130 interrupted (Ctrl-C).
import { isUserError } from '../core/errors';
import { EXIT_CODES, workerMessage } from '../runner/protocol';
import { isSetupError } from '../runner/train';
import { packageVersion } from '../runner/packageInfo';
import { isUsageError, OptionSpec, parseArgs, suggest } from './args';
import { Command } from './command';
import { jsonLine } from './jobs';
import { benchCommand } from './commands/bench';
import { demoCommand } from './commands/demo';
import { doctorCommand } from './commands/doctor';
import { runEvalCommand } from './commands/eval';
import { experimentCommand } from './commands/experiment';
import { jobCommand } from './commands/job';
import { jobsCommand } from './commands/jobs';
import { listCommand, showCommand } from './commands/list';
import { trainCommand } from './commands/train';

const COMMANDS: Command[] = [trainCommand, benchCommand, demoCommand, experimentCommand, jobCommand, jobsCommand, listCommand, showCommand, doctorCommand];
const COMMAND_NAMES = ['train', 'eval', 'bench', 'demo', 'experiment', 'job', 'jobs', 'list', 'show', 'doctor', 'help'];

function optionHelp(o: OptionSpec): string {
  const flag = `--${o.flag}${o.type === 'boolean' ? '' : ` <${o.placeholder ?? 'value'}>`}${o.short ? `, -${o.short}` : ''}`;
  const def =
    o.default !== undefined && o.default !== '' && o.type !== 'boolean'
      ? ` (default ${typeof o.default === 'number' && !Number.isInteger(o.default) ? Number(o.default.toPrecision(4)) : o.default})`
      : o.type === 'boolean' && o.default === true
        ? ' (default on; --no-' + o.flag + ' turns it off)'
        : '';
  return `  ${flag.padEnd(34)} ${o.description}${def}`;
}

function commandHelp(c: Command): string {
  return (
    [`usage: robust-meta ${c.name} ${c.usage}`, '', c.summary, '', 'options:', ...c.options.map(optionHelp), ...(c.details ? ['', c.details] : [])].join('\n') +
    '\n'
  );
}

function generalHelp(): string {
  const rows = [
    [trainCommand.name, trainCommand.summary],
    ['eval', 'Evaluate checkpoints on a dataset: clean and robust accuracy, robustness curve.'],
    ...COMMANDS.filter((c) => c !== trainCommand).map((c) => [c.name, c.summary]),
  ];
  return (
    [
      `robust-meta ${packageVersion()}: adversarially robust few-shot meta-learning (MAVRL and baselines) on TensorFlow.js`,
      '',
      'usage: robust-meta <command> [options]',
      '',
      'commands:',
      ...rows.map(([n, s]) => `  ${n.padEnd(11)} ${s}`),
      '',
      "'robust-meta <command> --help' lists a command's options; every config key is a --kebab-case flag.",
      'exit codes: 0 ok, 1 failure, 2 usage or config error, 130 interrupted.',
    ].join('\n') + '\n'
  );
}

function printError(command: string | undefined, e: unknown, json = false): number {
  const where = command ? `robust-meta ${command}` : 'robust-meta';
  const user = isUserError(e);
  const code = user ? (isUsageError(e) || isSetupError(e) ? EXIT_CODES.usage : EXIT_CODES.failure) : EXIT_CODES.failure;
  const err = e as Error;
  const message = user ? err.message : `unexpected error: ${err?.message ?? String(e)}`;
  // A --json reader gets every error as an event, whether a flag, the config or the run failed.
  if (json) process.stdout.write(jsonLine(workerMessage({ type: 'error', message, userError: user, exitCode: code })));
  process.stderr.write(`${where}: ${message}\n${user ? '' : `${err?.stack ?? ''}\n`}`);
  return code;
}

/** Runs the CLI with argv (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    const c = COMMANDS.find((x) => x.name === topic);
    if (topic === 'eval') return main(['eval', '--help']);
    process.stdout.write(c ? commandHelp(c) : generalHelp());
    if (topic && !c) {
      process.stderr.write(`robust-meta: no command '${topic}'\n`);
      return EXIT_CODES.usage;
    }
    return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(packageVersion() + '\n');
    return EXIT_CODES.ok;
  }
  if (name === 'eval') {
    try {
      return await runEvalCommand(rest);
    } catch (e) {
      return printError('eval', e, rest.includes('--json'));
    }
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const near = suggest(name, COMMAND_NAMES);
    process.stderr.write(`robust-meta: unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}\n\n${generalHelp()}`);
    return EXIT_CODES.usage;
  }
  try {
    const args = parseArgs(rest, command.options, command.name);
    if (args.options.help === true) {
      process.stdout.write(commandHelp(command));
      return EXIT_CODES.ok;
    }
    return await command.run(args);
  } catch (e) {
    return printError(command.name, e, rest.includes('--json'));
  }
}

/** The bin entry: runs main and exits with its code once output is written. */
export function cli(): void {
  // A reader that goes away (`robust-meta list | head`) is not an error of ours: stop quietly,
  // as other command-line tools do, instead of dying on EPIPE with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT_CODES.ok);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.exitCode = printError(undefined, e);
    },
  );
}
