import type { Command } from 'commander';
import { newCommand, type CliIo } from '../io.js';

/** `ecg-monitor mitdb <fetch|verify>`: get and check the MIT-BIH Arrhythmia Database. */
export function mitdbCommand(io: CliIo): Command {
  return newCommand('mitdb', io).description('download and verify the MIT-BIH Arrhythmia Database');
}
