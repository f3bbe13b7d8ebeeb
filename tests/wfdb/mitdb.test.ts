import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcgMonitorError, NetworkError } from '../../src/errors.js';
import { fetchDatabase, parseSha256Sums, sha256File, verifyDatabase } from '../../src/wfdb/mitdb.js';
import { startFileServer, type FileServer } from '../helpers/fileServer.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

const tmpDirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mitdb-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('parseSha256Sums', () => {
  it('reads PhysioNet (one space) and sha256sum (two spaces, *binary) styles', () => {
    const h = 'a'.repeat(64);
    const sums = parseSha256Sums(`${h} 100.dat\r\n${h.toUpperCase()}  ./x/101.hea\n${h} *RECORDS\n\n`, 'S');
    expect([...sums.entries()]).toEqual([['100.dat', h], ['x/101.hea', h], ['RECORDS', h]]);
  });
  it('names the file and line of a bad entry', () => {
    expect(() => parseSha256Sums(`${'a'.repeat(64)} ok\nnot a checksum\n`, 'SHA256SUMS.txt')).toThrowError(
      expect.objectContaining({ code: 'ECG_ERR_SHA256', file: 'SHA256SUMS.txt', line: 2 }),
    );
  });
});

describe.skipIf(skipWithoutMitdb())('verifyDatabase', () => {
  it('passes on the real database, all 48 records', async () => {
    const lines: string[] = [];
    const result = await verifyDatabase({ dir: MITDB_DIR, onRecord: (c) => lines.push(c.record) });
    expect(result.ok).toBe(true);
    expect(lines).toHaveLength(48);
    expect(result.databaseFiles.map((f) => [f.file, f.ok])).toEqual([['RECORDS', true], ['ANNOTATORS', true]]);
    expect(result.records.every((r) => r.signals.length === 2 && r.files.length === 3)).toBe(true);
  });

  /** A copy of the database made of symlinks, except the files a test changes. */
  const linkedCopy = (): string => {
    const dir = tmp();
    for (const f of readdirSync(MITDB_DIR)) symlinkSync(join(MITDB_DIR, f), join(dir, f));
    return dir;
  };
  const replace = (dir: string, file: string, edit: (b: Buffer) => Buffer): void => {
    const bytes = edit(readFileSync(join(MITDB_DIR, file)));
    rmSync(join(dir, file));
    writeFileSync(join(dir, file), bytes);
  };

  it('reports a changed .dat as a SHA-256 mismatch and its checksum mismatch', async () => {
    const dir = linkedCopy();
    replace(dir, '105.dat', (b) => {
      b[30_000] ^= 0x01;
      return b;
    });
    const result = await verifyDatabase({ dir, records: ['100', '105'] });
    expect(result.ok).toBe(false);
    const [r100, r105] = result.records;
    expect(r100!.ok).toBe(true);
    expect(r105!.ok).toBe(false);
    expect(r105!.files.find((f) => f.file === '105.dat')).toMatchObject({ ok: false, problem: 'mismatch' });
    expect(r105!.signals.some((s) => !s.ok)).toBe(true);
  });
  it('catches a checksum mismatch even when SHA256SUMS was updated to match the changed file', async () => {
    const dir = linkedCopy();
    replace(dir, '105.dat', (b) => {
      b[30_000] ^= 0x01;
      return b;
    });
    const newHash = await sha256File(join(dir, '105.dat'));
    replace(dir, 'SHA256SUMS.txt', (b) => Buffer.from(b.toString('latin1').replace(/^[0-9a-f]{64} 105\.dat$/m, `${newHash} 105.dat`), 'latin1'));
    const [r] = (await verifyDatabase({ dir, records: ['105'] })).records;
    expect(r!.files.every((f) => f.ok)).toBe(true);
    expect(r!.ok).toBe(false);
    expect(r!.signals.filter((s) => !s.ok).map((s) => s.description)).toHaveLength(1);
  });
  it('reports missing and truncated files without stopping', async () => {
    const dir = linkedCopy();
    rmSync(join(dir, '101.atr'));
    replace(dir, '102.dat', (b) => b.subarray(0, 1000));
    const result = await verifyDatabase({ dir, records: ['101', '102', '103'] });
    expect(result.records.map((r) => r.ok)).toEqual([false, false, true]);
    expect(result.records[0]!.files.find((f) => f.file === '101.atr')!.problem).toBe('missing');
    expect(result.records[1]!.error?.code).toBe('ECG_ERR_TRUNCATED');
  });
  it('throws ECG_ERR_FILE_NOT_FOUND without SHA256SUMS', async () => {
    await expect(verifyDatabase({ dir: tmp() })).rejects.toMatchObject({ code: 'ECG_ERR_FILE_NOT_FOUND' });
  });
});

describe.skipIf(skipWithoutMitdb())('fetchDatabase against a local HTTP server serving ../shared/mitdb', () => {
  let server: FileServer;
  beforeAll(async () => {
    server = await startFileServer(MITDB_DIR);
  });
  afterAll(() => server.close());

  it('downloads a subset, verifies it, and resumes without downloading again', async () => {
    const dir = join(tmp(), 'nested', 'mitdb');
    const events: string[] = [];
    const first = await fetchDatabase({ dir, baseUrl: server.baseUrl, records: ['100', '208'], onProgress: (e) => events.push(`${e.index}/${e.total} ${e.file} ${e.status}`) });
    expect(first.downloaded.sort()).toEqual(['100.atr', '100.dat', '100.hea', '208.atr', '208.dat', '208.hea', 'ANNOTATORS', 'RECORDS', 'SHA256SUMS.txt']);
    expect(events).toHaveLength(9);
    expect(events[0]).toBe('1/3 SHA256SUMS.txt downloaded');
    expect(events.at(-1)).toMatch(/^9\/9 /);
    for (const f of ['100.dat', '208.hea']) expect(readFileSync(join(dir, f)).equals(readFileSync(join(MITDB_DIR, f)))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    expect((await verifyDatabase({ dir, records: ['100', '208'] })).ok).toBe(true);

    // Resume: everything present is skipped; a deleted and a damaged file are fetched again.
    rmSync(join(dir, '100.atr'));
    writeFileSync(join(dir, '208.dat'), 'damaged');
    server.requests.length = 0;
    const second = await fetchDatabase({ dir, baseUrl: server.baseUrl, records: ['100', '208'] });
    expect(second.downloaded.sort()).toEqual(['100.atr', '208.dat', 'SHA256SUMS.txt']);
    expect(second.skipped).toHaveLength(6);
    expect(server.requests.map((p) => p.split('/').pop()).sort()).toEqual(['100.atr', '208.dat', 'SHA256SUMS.txt']);
    expect((await verifyDatabase({ dir, records: ['100', '208'] })).ok).toBe(true);
  });

  it('a corrupted download fails with ECG_ERR_SHA256 and installs nothing', async () => {
    const dir = tmp();
    server.faults.corrupt = new Set(['101.dat']);
    try {
      const err = await fetchDatabase({ dir, baseUrl: server.baseUrl, records: ['101'], concurrency: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetworkError);
      expect((err as NetworkError).code).toBe('ECG_ERR_SHA256');
      expect((err as NetworkError).message).toMatch(/^101\.dat: SHA-256 [0-9a-f]{64} of the download from http:\/\/127\.0\.0\.1:\d+\/files\/mitdb\/1\.0\.0\/101\.dat does not match [0-9a-f]{64} in SHA256SUMS$/);
      expect(existsSync(join(dir, '101.dat'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    } finally {
      server.faults.corrupt = undefined;
    }
  });

  it('retries HTTP 5xx, fails clearly on 404 and on an unreachable server', async () => {
    server.faults.failTimes = new Map([['102.hea', 2]]);
    const ok = await fetchDatabase({ dir: tmp(), baseUrl: server.baseUrl, records: ['102'], attempts: 3 });
    expect(ok.downloaded).toContain('102.hea');

    server.faults.missing = new Set(['103.atr']);
    const e404 = await fetchDatabase({ dir: tmp(), baseUrl: server.baseUrl, records: ['103'] }).catch((e: unknown) => e);
    server.faults.missing = undefined;
    expect(e404).toMatchObject({ code: 'ECG_ERR_FETCH', message: `${server.baseUrl}103.atr: HTTP 404 Not Found` });

    const down = await startFileServer(MITDB_DIR);
    const deadUrl = down.baseUrl;
    await down.close();
    const eDown = await fetchDatabase({ dir: tmp(), baseUrl: deadUrl, attempts: 1 }).catch((e: unknown) => e);
    expect(eDown).toBeInstanceOf(NetworkError);
    expect((eDown as EcgMonitorError).code).toBe('ECG_ERR_FETCH');
    expect((eDown as EcgMonitorError).message).toContain(`${deadUrl}SHA256SUMS.txt: fetch failed (ECONNREFUSED)`);
  });

  it('refuses a file with no listed checksum', async () => {
    const root = tmp();
    for (const f of ['RECORDS', 'ANNOTATORS', '100.hea', '100.dat', '100.atr']) copyFileSync(join(MITDB_DIR, f), join(root, f));
    writeFileSync(join(root, 'SHA256SUMS.txt'), readFileSync(join(MITDB_DIR, 'SHA256SUMS.txt'), 'latin1').split('\n').filter((l) => !l.endsWith(' 100.atr')).join('\n'));
    const s = await startFileServer(root);
    try {
      const err = await fetchDatabase({ dir: tmp(), baseUrl: s.baseUrl, records: ['100'] }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ECG_ERR_SHA256', message: '100.atr: no checksum listed in SHA256SUMS.txt, refusing to install it' });
    } finally {
      await s.close();
    }
  });
});
