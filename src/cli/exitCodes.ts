import { CommanderError } from 'commander';
import { EcgMonitorError, type ErrorCode } from '../errors.js';

/** Exit codes, one meaning each: 0 success, 1 data or runtime error, 2 usage error, 3 device or broker unreachable. */
export const EXIT = { ok: 0, dataError: 1, usage: 2, unreachable: 3 } as const;

const USAGE_CODES: readonly ErrorCode[] = ['ECG_ERR_USAGE', 'ECG_ERR_BAD_OPTION'];

/** The one place where an error becomes an exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof EcgMonitorError) {
    if (USAGE_CODES.includes(error.code)) return EXIT.usage;
    if (error.code === 'ECG_ERR_UNREACHABLE') return EXIT.unreachable;
  }
  return EXIT.dataError;
}
