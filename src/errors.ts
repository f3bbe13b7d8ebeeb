/**
 * Every error the project raises, one class per kind of failure, each with a stable `code`.
 * Tests and the CLI branch on `code`, never on the message. The codes are listed in docs/errors.md.
 */

export type ErrorCode =
  | 'ECG_ERR_BAD_OPTION' // a caller passed an invalid option (fatal at configuration time)
  | 'ECG_ERR_USAGE' // bad command line
  | 'ECG_ERR_FILE_NOT_FOUND' // a record file, header or annotation file is missing
  | 'ECG_ERR_BAD_HEADER' // a .hea line cannot be parsed or says something unsupported
  | 'ECG_ERR_UNSUPPORTED_FORMAT' // a signal or annotation format the reader does not implement
  | 'ECG_ERR_TRUNCATED' // a .dat or annotation file ends before the header says it should
  | 'ECG_ERR_CHECKSUM' // decoded samples do not reproduce the header's first value or checksum
  | 'ECG_ERR_BAD_ANNOTATION' // an annotation file is malformed
  | 'ECG_ERR_SHA256' // a downloaded or stored file does not match SHA256SUMS
  | 'ECG_ERR_FETCH' // a download failed
  | 'ECG_ERR_STREAM' // bad data on a running stream (wrong rate change, non-monotonic chunk indices)
  | 'ECG_ERR_UNREACHABLE' // a device or broker cannot be reached
  | 'ECG_ERR_MODEL' // model weights missing, corrupt or mismatched
  | 'ECG_ERR_BAD_MESSAGE' // a message on the wire does not follow its schema (src/wire/)
  | 'ECG_ERR_FILE_ACCESS'; // a file or folder exists but cannot be read or written (a folder given for a file, permission denied, disk full)

/** Base class: every error of the project has a stable code and may carry its cause. */
export class EcgMonitorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option was invalid; thrown when an operator or command is configured, before any data flows. */
export class ConfigError extends EcgMonitorError {}

/** A WFDB file is malformed, truncated, unsupported or fails its checksum. Says where: file plus line or byte offset. */
export class RecordFormatError extends EcgMonitorError {
  readonly file: string;
  readonly line?: number;
  readonly byteOffset?: number;
  constructor(
    code: ErrorCode,
    message: string,
    where: { file: string; line?: number; byteOffset?: number },
    options?: { cause?: unknown },
  ) {
    const at = where.line !== undefined ? `:${where.line}` : where.byteOffset !== undefined ? ` @ byte ${where.byteOffset}` : '';
    super(code, `${where.file}${at}: ${message}`, options);
    this.file = where.file;
    this.line = where.line;
    this.byteOffset = where.byteOffset;
  }
}

/** Bad data on a running stream; travels on the observable's error channel. */
export class StreamError extends EcgMonitorError {
  readonly streamId: string;
  readonly sampleIndex: number;
  constructor(code: ErrorCode, message: string, where: { streamId: string; sampleIndex: number }, options?: { cause?: unknown }) {
    super(code, `${where.streamId}@${where.sampleIndex}: ${message}`, options);
    this.streamId = where.streamId;
    this.sampleIndex = where.sampleIndex;
  }
}

/** A download or a network peer failed. */
export class NetworkError extends EcgMonitorError {}

/** Model weights missing, corrupt or not matching the architecture. */
export class ModelError extends EcgMonitorError {}

/** A message on the wire (NDJSON line, WebSocket or MQTT payload) does not follow its schema; says which field and why. */
export class WireFormatError extends EcgMonitorError {}

/**
 * A file or folder could not be read or written: a Node system error (ENOENT, EISDIR, EACCES, ...) given a code and a
 * message that names the path. The CLI turns the raw Node errors that reach it into these (src/cli/exitCodes.ts).
 */
export class FileSystemError extends EcgMonitorError {
  readonly file: string;
  constructor(code: ErrorCode, message: string, where: { file: string }, options?: { cause?: unknown }) {
    super(code, `${where.file}: ${message}`, options);
    this.file = where.file;
  }
}
