#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { EcgMonitorError } from '../errors.js';
import { exitCodeFor, fromSystemError } from './exitCodes.js';
import { expandHelpCommand, newCommand, processIo, withUsageCode, type CliIo } from './io.js';
import { decodeBenchSuite } from '../bench/decode.js';
import { benchCommand, DEFAULT_BENCH_SUITES } from './commands/bench.js';
import { classifyBenchSuite } from './commands/benchClassify.js';
import { datasetCommand } from './commands/dataset.js';
import { evalCommand } from './commands/eval.js';
import { mitdbCommand } from './commands/mitdb.js';
import { serveCommand } from './commands/serve.js';
import { trainCommand } from './commands/train.js';

/**
 * Runs the CLI on `argv` (without node and script) and resolves to the exit code.
 * Exported so tests drive it with fake streams; the process entry point below is a thin wrapper.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = newCommand('ecg-monitor', io)
    .description('Streaming real-time ECG arrhythmia monitor')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError()
    .addCommand(serveCommand(io))
    .addCommand(mitdbCommand(io))
    .addCommand(evalCommand(io))
    .addCommand(datasetCommand(io))
    .addCommand(benchCommand(io, [...DEFAULT_BENCH_SUITES, classifyBenchSuite, decodeBenchSuite]))
    .addCommand(trainCommand(io));
  try {
    await program.parseAsync(expandHelpCommand(program, argv), { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // A group run without its command: commander printed the group's help on stderr, and no error line.
      if (error.code === 'commander.help' && error.exitCode !== 0) io.stderr.write(withUsageCode('error: missing command'));
      return exitCodeFor(error); // commander already printed the message, with its code (newCommand's outputError)
    }
    const failure = fromSystemError(error) ?? error; // a raw Node ENOENT, EISDIR, EACCES... gets a code and names its path
    const code = failure instanceof EcgMonitorError ? ` [${failure.code}]` : '';
    io.stderr.write(`ecg-monitor: ${failure instanceof Error ? failure.message : String(failure)}${code}\n`);
    return exitCodeFor(failure);
  }
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  // A reader that goes away (`ecg-monitor serve | head`) ends a stream of lines normally; without this, the next write
  // would crash the process with an unhandled EPIPE and a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
