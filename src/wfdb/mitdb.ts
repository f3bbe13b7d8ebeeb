import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EcgMonitorError, NetworkError, RecordFormatError } from '../errors.js';
import { asNotFound } from './files.js';
import { toChecksum16 } from './header.js';
import { readRecord } from './record.js';

/**
 * Getting and checking the MIT-BIH Arrhythmia Database (or any PhysioNet WFDB database laid out the same way:
 * `RECORDS`, `SHA256SUMS.txt`, and per record `.hea`, `.dat`, `.atr`).
 *
 * - {@link verifyDatabase}: every file of every record against SHA256SUMS, then every signal's first value and 16-bit
 *   checksum against its header (`ecg-monitor mitdb verify`).
 * - {@link fetchDatabase}: downloads from PhysioNet with Node's fetch, verifying each file's SHA-256 before it is renamed
 *   into place; files already present with the right hash are skipped, so an interrupted fetch resumes
 *   (`ecg-monitor mitdb fetch`).
 *
 * References: PhysioNet, MIT-BIH Arrhythmia Database v1.0.0, https://physionet.org/content/mitdb/1.0.0/ ;
 * Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng Med Biol 2001;20(3):45-50.
 */

/** PhysioNet's file area for MIT-BIH 1.0.0. */
export const MITDB_BASE_URL = 'https://physionet.org/files/mitdb/1.0.0/';
/** The per-record files the project uses. */
export const RECORD_EXTENSIONS: readonly string[] = ['hea', 'dat', 'atr'];
/** Database-level files fetched besides the records (SHA256SUMS.txt is fetched first, separately). */
export const DATABASE_FILES: readonly string[] = ['RECORDS', 'ANNOTATORS'];
/** Names PhysioNet uses for the checksum list, in order of preference. */
export const SHA256SUMS_NAMES: readonly string[] = ['SHA256SUMS.txt', 'SHA256SUMS'];

/** Parses a SHA256SUMS list: `<64 hex> <file>` per line (sha256sum and PhysioNet styles). Keys are paths as written. */
export function parseSha256Sums(text: string, file: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const m = /^([0-9a-fA-F]{64})\s+\*?(\S.*)$/.exec(line.trimEnd()); // "hash  file", "hash *file" or PhysioNet's "hash file"
    if (!m) throw new RecordFormatError('ECG_ERR_SHA256', `bad checksum line "${line.slice(0, 60)}" (expected "<sha256>  <file>")`, { file, line: i + 1 });
    sums.set(m[2]!.replace(/^\.\//, ''), m[1]!.toLowerCase());
  });
  return sums;
}

/** SHA-256 of a file, hex. @throws RecordFormatError ECG_ERR_FILE_NOT_FOUND */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw asNotFound(error, path);
  }
  return hash.digest('hex');
}

/** Reads the record list (`RECORDS`, one name per line). */
export async function readRecordList(dir: string): Promise<string[]> {
  const path = join(dir, 'RECORDS');
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch (error) {
    throw asNotFound(error, path);
  }
  return text.split(/\s+/).filter((r) => r !== '');
}

/** Finds and parses the database's SHA256SUMS(.txt). */
export async function readSha256Sums(dir: string): Promise<{ file: string; sums: Map<string, string> }> {
  for (const name of SHA256SUMS_NAMES) {
    const path = join(dir, name);
    if (existsSync(path)) return { file: path, sums: parseSha256Sums(await readFile(path, 'latin1'), path) };
  }
  throw new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', `no ${SHA256SUMS_NAMES.join(' or ')} in the folder`, { file: join(dir, SHA256SUMS_NAMES[0]!) });
}

/** One file's SHA-256 check. */
export interface FileCheck {
  file: string;
  ok: boolean;
  /** Why not ok: `missing`, `mismatch` or `no checksum listed`. */
  problem?: 'missing' | 'mismatch' | 'no checksum listed';
  expected?: string;
  actual?: string;
}

/** One signal's first-value and checksum check. */
export interface SignalCheck {
  index: number;
  description: string;
  firstValue: number;
  expectedFirstValue: number;
  checksum: number;
  expectedChecksum?: number;
  ok: boolean;
}

/** The verdict on one record. */
export interface RecordCheck {
  record: string;
  ok: boolean;
  files: FileCheck[];
  signals: SignalCheck[];
  /** Set when the record could not be read (missing, truncated, bad header): code and message. */
  error?: { code: string; message: string };
}

/** Options of {@link verifyDatabase}. */
export interface VerifyOptions {
  /** Database folder. */
  dir: string;
  /** Records to check; default: all in `RECORDS`. */
  records?: readonly string[];
  /** Called after each record, in order (the CLI prints a line). */
  onRecord?: (check: RecordCheck) => void;
}

/** Result of {@link verifyDatabase}. */
export interface VerifyResult {
  ok: boolean;
  records: RecordCheck[];
  /** Database-level files (RECORDS, ANNOTATORS) that are listed in SHA256SUMS. */
  databaseFiles: FileCheck[];
  sha256File: string;
}

async function checkFile(dir: string, file: string, sums: Map<string, string>): Promise<FileCheck> {
  const expected = sums.get(file);
  if (expected === undefined) return { file, ok: false, problem: 'no checksum listed' };
  const path = join(dir, file);
  if (!existsSync(path)) return { file, ok: false, problem: 'missing', expected };
  const actual = await sha256File(path);
  return actual === expected ? { file, ok: true, expected, actual } : { file, ok: false, problem: 'mismatch', expected, actual };
}

/**
 * Checks a WFDB database folder: SHA256SUMS for RECORDS, ANNOTATORS (when listed) and every record's .hea/.dat/.atr,
 * then each signal's first value and 16-bit checksum against its header. Never throws for a bad record: it is reported
 * in the result (only a missing RECORDS or SHA256SUMS throws, ECG_ERR_FILE_NOT_FOUND).
 */
export async function verifyDatabase(options: VerifyOptions): Promise<VerifyResult> {
  const { dir } = options;
  const { file: shaFile, sums } = await readSha256Sums(dir);
  const records = options.records ?? (await readRecordList(dir));
  const databaseFiles: FileCheck[] = [];
  for (const f of DATABASE_FILES) if (sums.has(f)) databaseFiles.push(await checkFile(dir, f, sums));
  const checks: RecordCheck[] = [];
  for (const record of records) {
    const files: FileCheck[] = [];
    for (const ext of RECORD_EXTENSIONS) files.push(await checkFile(dir, `${record}.${ext}`, sums));
    const check: RecordCheck = { record, ok: false, files, signals: [] };
    try {
      const rec = await readRecord(dir, record, { verify: false });
      check.signals = rec.header.signals.map((sig, i) => {
        const adc = rec.adc[i]!;
        let sum = 0;
        for (let k = 0; k < adc.length; k++) sum = (sum + adc[k]!) % 65536;
        const checksum = toChecksum16(sum);
        const firstValue = adc.length > 0 ? adc[0]! : sig.initialValue;
        const s: SignalCheck = {
          index: i,
          description: sig.description,
          firstValue,
          expectedFirstValue: sig.initialValue,
          checksum,
          ok: (!sig.hasInitialValue || firstValue === sig.initialValue) && (sig.checksum === undefined || checksum === toChecksum16(sig.checksum)),
        };
        if (sig.checksum !== undefined) s.expectedChecksum = sig.checksum;
        return s;
      });
    } catch (error) {
      if (!(error instanceof EcgMonitorError)) throw error;
      check.error = { code: error.code, message: error.message };
    }
    check.ok = check.error === undefined && files.every((f) => f.ok) && check.signals.every((s) => s.ok);
    checks.push(check);
    options.onRecord?.(check);
  }
  return {
    ok: checks.every((c) => c.ok) && databaseFiles.every((f) => f.ok),
    records: checks,
    databaseFiles,
    sha256File: shaFile,
  };
}

/** A progress event of {@link fetchDatabase}. */
export interface FetchProgress {
  /** 1-based index of the file among all files of the run. */
  index: number;
  total: number;
  file: string;
  /** `skipped`: already present with the right hash; `downloaded`: fetched and verified. */
  status: 'skipped' | 'downloaded';
  bytes: number;
}

/** Options of {@link fetchDatabase}. */
export interface FetchOptions {
  /** Target folder (created if missing). */
  dir: string;
  /** Base URL of the database's file area, ending in `/`. Default {@link MITDB_BASE_URL}. */
  baseUrl?: string;
  /** Records to fetch; default: all in the downloaded `RECORDS`. */
  records?: readonly string[];
  /** Files downloaded at once. Default 4. */
  concurrency?: number;
  /** Attempts per file on network errors and HTTP 5xx. Default 3. */
  attempts?: number;
  /** Timeout per request, ms. Default 120000. */
  timeoutMs?: number;
  onProgress?: (event: FetchProgress) => void;
}

/** Result of {@link fetchDatabase}. */
export interface FetchResult {
  dir: string;
  records: string[];
  downloaded: string[];
  skipped: string[];
  bytesDownloaded: number;
}

/**
 * Downloads a PhysioNet WFDB database (by default MIT-BIH) into `dir`: SHA256SUMS.txt first, then RECORDS and ANNOTATORS,
 * then each record's .hea, .dat and .atr. Each file goes to a temporary name, its SHA-256 is checked against
 * SHA256SUMS, and only then is it renamed into place; a file already present with the right hash is skipped.
 * @throws NetworkError ECG_ERR_FETCH (HTTP error, network failure, timeout) or ECG_ERR_SHA256 (hash mismatch, or no
 *   checksum listed for a file), naming the URL or file
 */
export async function fetchDatabase(options: FetchOptions): Promise<FetchResult> {
  const { dir } = options;
  const baseUrl = options.baseUrl ?? MITDB_BASE_URL;
  const concurrency = options.concurrency ?? 4;
  const attempts = options.attempts ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!/^https?:\/\//.test(baseUrl)) throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `base URL "${baseUrl}" must start with http:// or https://`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new EcgMonitorError('ECG_ERR_BAD_OPTION', `concurrency ${concurrency} must be an integer >= 1`);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  await mkdir(dir, { recursive: true });
  const get = (file: string, expected?: string): Promise<number> => download(new URL(file, base).href, join(dir, file), file, expected, attempts, timeoutMs);

  // The checksum list has no checksum of its own: always fetch it fresh.
  const shaName = SHA256SUMS_NAMES[0]!;
  const shaBytes = await get(shaName);
  const sums = parseSha256Sums(await readFile(join(dir, shaName), 'latin1'), join(dir, shaName));
  const files = [...DATABASE_FILES];
  const result: FetchResult = { dir, records: [], downloaded: [shaName], skipped: [], bytesDownloaded: shaBytes };
  let index = 1;
  let total = 1 + files.length; // updated once RECORDS is known
  options.onProgress?.({ index, total, file: shaName, status: 'downloaded', bytes: shaBytes });

  const one = async (file: string): Promise<void> => {
    const expected = sums.get(file);
    if (expected === undefined) throw new NetworkError('ECG_ERR_SHA256', `${file}: no checksum listed in ${shaName}, refusing to install it`);
    const path = join(dir, file);
    let status: FetchProgress['status'] = 'downloaded';
    let bytes = 0;
    if (existsSync(path) && (await sha256File(path)) === expected) status = 'skipped';
    else bytes = await get(file, expected);
    (status === 'skipped' ? result.skipped : result.downloaded).push(file);
    result.bytesDownloaded += bytes;
    options.onProgress?.({ index: ++index, total, file, status, bytes });
  };
  for (const f of files) await one(f);
  result.records = [...(options.records ?? (await readRecordList(dir)))];
  const recordFiles = result.records.flatMap((r) => RECORD_EXTENSIONS.map((ext) => `${r}.${ext}`));
  total += recordFiles.length;
  let next = 0;
  let failed = false; // the first failure stops the other workers from starting new files
  const workers = Array.from({ length: Math.min(concurrency, recordFiles.length) }, async () => {
    try {
      while (!failed && next < recordFiles.length) await one(recordFiles[next++]!);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
  // Wait for every worker (none is left writing after we return), then report the first failure.
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return result;
}

/** Errors not worth retrying (HTTP 4xx, hash mismatch). */
const permanent = new WeakSet<object>();

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * GETs `url` into `path` via a temporary file, hashing on the way; checks `expected` (if given) before the rename.
 * Retries network errors and 5xx responses. Returns the byte count.
 */
async function download(url: string, path: string, file: string, expected: string | undefined, attempts: number, timeoutMs: number): Promise<number> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const tmp = `${path}.part-${process.pid}`;
    try {
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
      } catch (error) {
        throw new NetworkError('ECG_ERR_FETCH', `${url}: ${describeFetchError(error)}`, { cause: error });
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        const err = new NetworkError('ECG_ERR_FETCH', `${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
        if (response.status < 500) permanent.add(err); // 4xx will not get better by retrying
        throw err;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      const out = await open(tmp, 'w');
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          bytes += chunk.length;
          await out.write(chunk);
        }
      } catch (error) {
        throw new NetworkError('ECG_ERR_FETCH', `${url}: download interrupted after ${bytes} bytes: ${describeFetchError(error)}`, { cause: error });
      } finally {
        await out.close();
      }
      const actual = hash.digest('hex');
      if (expected !== undefined && actual !== expected) {
        const err = new NetworkError('ECG_ERR_SHA256', `${file}: SHA-256 ${actual} of the download from ${url} does not match ${expected} in SHA256SUMS`);
        permanent.add(err);
        throw err;
      }
      await rename(tmp, path);
      return bytes;
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      lastError = error;
      if (permanent.has(error as object) || !(error instanceof NetworkError) || attempt === attempts) break;
      await sleep(250 * 2 ** (attempt - 1));
    }
  }
  throw lastError;
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}
