import type { Command } from 'commander';
import { newCommand, type CliIo } from '../io.js';

/** `ecg-monitor serve`: the live monitor. */
export function serveCommand(io: CliIo): Command {
  return newCommand('serve', io).description('run the monitor on a stream');
}
