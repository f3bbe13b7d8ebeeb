import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor, fromSystemError } from '../../src/cli/exitCodes.js';
import { main } from '../../src/cli/main.js';
import { EcgMonitorError, FileSystemError } from '../../src/errors.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { useTemporaryFolder } from '../helpers/temporaryFolder.js';

/**
 * Node's file-system errors (ENOENT, EISDIR, ENOTDIR, EACCES...) that reach the CLI's top level raw get a stable code and
 * a message naming the path, in the CLI's `ecg-monitor: <message> [<code>]` format, exit 1 (audit: `eval beats --records
 * 100,999` printed `ecg-monitor: ENOENT: no such file or directory, open '.../999.hea'` with no code).
 */

/** The error a real fs call raises. */
async function fsError(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('the fs call did not fail');
}

let work: string;
useTemporaryFolder('ecg-file-errors-', (path) => (work = path));

describe('fromSystemError', () => {
  it('ENOENT is ECG_ERR_FILE_NOT_FOUND naming the path; the Node error is the cause', async () => {
    const raw = await fsError(() => readFile(join(work, 'missing.hea')));
    const e = fromSystemError(raw);
    expect(e).toBeInstanceOf(FileSystemError);
    expect(e!.code).toBe('ECG_ERR_FILE_NOT_FOUND');
    expect(e!.file).toBe(join(work, 'missing.hea'));
    expect(e!.message).toBe(`${join(work, 'missing.hea')}: no such file or folder`);
    expect(e!.cause).toBe(raw);
    expect(exitCodeFor(e)).toBe(EXIT.dataError);
  });

  it('EISDIR, ENOTDIR and mkdir over a file are ECG_ERR_FILE_ACCESS, each saying what is wrong', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    const isDir = fromSystemError(await fsError(() => writeFile(`${work}/`, 'x')));
    expect([isDir?.code, isDir?.message]).toEqual(['ECG_ERR_FILE_ACCESS', `${work}/: is a folder, expected a file`]);
    const notDir = fromSystemError(await fsError(() => readFile(join(file, 'x'))));
    expect([notDir?.code, notDir?.message]).toEqual(['ECG_ERR_FILE_ACCESS', `${join(file, 'x')}: not a folder (the path goes through a file)`]);
    const taken = fromSystemError(await fsError(() => mkdir(file, { recursive: true })));
    expect([taken?.code, taken?.message]).toEqual(['ECG_ERR_FILE_ACCESS', `${file}: exists and is not a folder`]);
  });

  it('EACCES and EPERM name the path; an unlisted code keeps Node\'s description; rename names both paths', () => {
    // Made by hand: tests may run as root, where permissions are not enforced.
    const sys = (code: string, message: string, extra: object): Error => Object.assign(new Error(message), { code, ...extra });
    const denied = fromSystemError(sys('EACCES', "EACCES: permission denied, open '/root/x'", { syscall: 'open', path: '/root/x' }));
    expect([denied?.code, denied?.message]).toEqual(['ECG_ERR_FILE_ACCESS', '/root/x: permission denied']);
    const perm = fromSystemError(sys('EPERM', "EPERM: operation not permitted, unlink '/x'", { syscall: 'unlink', path: '/x' }));
    expect([perm?.code, perm?.message]).toEqual(['ECG_ERR_FILE_ACCESS', '/x: operation not permitted']);
    const other = fromSystemError(sys('ENXIO', "ENXIO: no such device or address, open '/tmp/fifo'", { syscall: 'open', path: '/tmp/fifo' }));
    expect(other?.message).toBe('/tmp/fifo: no such device or address');
    const moved = fromSystemError(sys('EXDEV', "EXDEV: cross-device link not permitted, rename '/a' -> '/b'", { syscall: 'rename', path: '/a', dest: '/b' }));
    expect(moved?.message).toBe('/a -> /b: cannot move across file systems');
  });

  it('leaves alone errors that are not file-system errors: the project\'s, path-less ones (EPIPE), plain ones', () => {
    expect(fromSystemError(new EcgMonitorError('ECG_ERR_MODEL', 'x'))).toBeUndefined();
    expect(fromSystemError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }))).toBeUndefined();
    expect(fromSystemError(new Error('plain'))).toBeUndefined();
    expect(fromSystemError('a string')).toBeUndefined();
  });
});

describe.skipIf(skipWithoutMitdb())('the CLI prints a raw fs error with its code and exits 1', () => {
  /** A database folder in `work` with links to MIT-BIH files (never copies). */
  async function linkedDb(name: string, files: readonly string[], recordsFile?: string): Promise<string> {
    const db = join(work, name);
    await mkdir(db, { recursive: true });
    for (const f of files) await symlink(join(MITDB_DIR, f), join(db, f));
    if (recordsFile !== undefined) await writeFile(join(db, 'RECORDS'), recordsFile);
    return db;
  }

  it('a record that does not exist (--records 999): the missing header', async () => {
    const io = fakeIo({ MITDB_DIR, LOG_LEVEL: 'silent' });
    expect(await main(['dataset', 'build', '--records', '999', '--out', join(work, 'ds-999')], io)).toBe(1);
    expect(io.err()).toBe(`ecg-monitor: ${join(MITDB_DIR, '999.hea')}: no such file or folder [ECG_ERR_FILE_NOT_FOUND]\n`);
  });

  it('a RECORDS file naming a missing record, and a record without its .atr', async () => {
    const listed = await linkedDb('listed', ['100.hea', '100.dat', '100.atr'], '100\n998\n');
    const io = fakeIo({ MITDB_DIR, LOG_LEVEL: 'silent' });
    expect(await main(['dataset', 'build', '--dir', listed, '--out', join(work, 'ds-listed')], io)).toBe(1);
    expect(io.err()).toMatch(new RegExp(`^ecg-monitor: ${join(listed, '998.hea')}: no such file or folder \\[ECG_ERR_FILE_NOT_FOUND\\]\\n$`));
    const noAtr = await linkedDb('no-atr', ['100.hea', '100.dat']);
    const io2 = fakeIo({ MITDB_DIR, LOG_LEVEL: 'silent' });
    expect(await main(['dataset', 'build', '--dir', noAtr, '--records', '100', '--out', join(work, 'ds-no-atr')], io2)).toBe(1);
    expect(io2.err()).toBe(`ecg-monitor: ${join(noAtr, '100.atr')}: no such file or folder [ECG_ERR_FILE_NOT_FOUND]\n`);
  });

  it('an output file that is a folder (EISDIR), and an output folder that is a file', async () => {
    const io = fakeIo({ MITDB_DIR, LOG_LEVEL: 'silent' });
    expect(await main(['mitdb', 'verify', '--records', '100', '--json', `${work}/`], io)).toBe(1);
    expect(io.err()).toBe(`ecg-monitor: ${work}/: is a folder, expected a file [ECG_ERR_FILE_ACCESS]\n`);
    const file = join(work, 'out-file');
    await writeFile(file, '');
    const io2 = fakeIo({ MITDB_DIR, LOG_LEVEL: 'silent' });
    expect(await main(['eval', 'qrs', '--records', '100', '--out', file], io2)).toBe(1);
    expect(io2.err()).toBe(`ecg-monitor: ${file}: exists and is not a folder [ECG_ERR_FILE_ACCESS]\n`);
  });
});
