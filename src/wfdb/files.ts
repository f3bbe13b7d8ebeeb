import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { RecordFormatError } from '../errors.js';

/** Reads a whole file; a missing file becomes RecordFormatError ECG_ERR_FILE_NOT_FOUND naming it. */
export async function readFileOrThrow(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw asNotFound(error, path);
  }
}

/** Maps ENOENT to RecordFormatError ECG_ERR_FILE_NOT_FOUND naming `path`; other errors pass through. */
export function asNotFound(error: unknown, path: string): unknown {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    return new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', 'file not found', { file: path }, { cause: error });
  }
  return error;
}

/** Writes a file atomically: a temporary file in the same folder, then rename, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}
