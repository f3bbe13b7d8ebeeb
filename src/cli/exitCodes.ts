import { CommanderError } from 'commander';
import { EcgMonitorError, FileSystemError, type ErrorCode } from '../errors.js';

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

/** A Node file-system error: `code` (ENOENT, ...), the `syscall` that failed and its `path` (plus `dest` for rename, copy, link). */
interface NodeSystemError extends Error {
  code: string;
  syscall?: string;
  path: string;
  dest?: string;
}

/** What each Node error code says, in the CLI's words; the codes not listed keep Node's own description. */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'not a folder (the path goes through a file)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'busy or locked',
  EXDEV: 'cannot move across file systems',
};

function isNodeSystemError(error: unknown): error is NodeSystemError {
  if (!(error instanceof Error) || error instanceof EcgMonitorError) return false;
  const { code, path } = error as Partial<NodeSystemError>;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof path === 'string';
}

/**
 * A raw Node file-system error (from `fs`, `fs/promises`, streams) as the project's error: ENOENT becomes
 * ECG_ERR_FILE_NOT_FOUND, every other code (EISDIR, ENOTDIR, EACCES, EPERM, ENOSPC, ...) ECG_ERR_FILE_ACCESS; the message
 * names the path (and the destination of a rename or copy) and says what is wrong, the Node error is kept as `cause`.
 * Undefined for anything else (errors of the project, errors without a path such as EPIPE or ECONNREFUSED).
 */
export function fromSystemError(error: unknown): FileSystemError | undefined {
  if (!isNodeSystemError(error)) return undefined;
  const described =
    error.code === 'EEXIST' && error.syscall === 'mkdir'
      ? 'exists and is not a folder' // mkdir with `recursive` fails only when a file takes the path
      : // Node's message is "ENOTSUP: operation not supported on socket, open '/x'": its description, for codes not listed.
        SYSTEM_ERRORS[error.code] ?? /^E[A-Z0-9]+: (.+?), \w+ '/.exec(error.message)?.[1] ?? error.code;
  const file = error.dest !== undefined ? `${error.path} -> ${error.dest}` : error.path;
  const code: ErrorCode = error.code === 'ENOENT' ? 'ECG_ERR_FILE_NOT_FOUND' : 'ECG_ERR_FILE_ACCESS';
  return new FileSystemError(code, described, { file }, { cause: error });
}
