import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startFileServer, type FileServer } from '../helpers/fileServer.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { fakeIo as fakeIoWith } from '../helpers/fakeIo.js';

const fakeIo = (env: NodeJS.ProcessEnv = { MITDB_DIR }) => fakeIoWith(env);

const tmpDirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cli-mitdb-'));
  tmpDirs.push(d);
  return d;
};
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('ecg-monitor mitdb --help', () => {
  it('lists fetch and verify, and each shows its defaults and an example', async () => {
    const io = fakeIo({ MITDB_DIR: '/data/mitdb' });
    expect(await main(['mitdb', '--help'], io)).toBe(0);
    expect(io.out()).toMatch(/fetch \[options\]/);
    expect(io.out()).toMatch(/verify \[options\]/);
    const f = fakeIo({ MITDB_DIR: '/data/mitdb' });
    expect(await main(['mitdb', 'fetch', '--help'], f)).toBe(0);
    const help = f.out().replace(/\s+/g, ' '); // commander wraps long lines
    expect(help).toContain('(default: "https://physionet.org/files/mitdb/1.0.0/")');
    expect(help).toContain('(default: MITDB_DIR, else $XDG_CACHE_HOME/ecg-monitor/mitdb; here "/data/mitdb")');
    expect(help.match(/\(default: /g)).toHaveLength(3); // --dir, --base-url and --concurrency, each once
    expect(help).toContain('(default: 4)');
    expect(f.out()).toContain('ecg-monitor mitdb fetch --dir data/mitdb --records 100,101,208');
  });
  it('rejects a bad --records with exit code 2', async () => {
    const io = fakeIo();
    expect(await main(['mitdb', 'verify', '--records', '1 00'], io)).toBe(2);
    expect(io.err()).toContain("must be 'all' or comma-separated record names");
  });
});

describe.skipIf(skipWithoutMitdb())('ecg-monitor mitdb verify', () => {
  it('prints one ok line per record for all 48 records and exits 0', async () => {
    const io = fakeIo();
    const json = join(tmp(), 'verify.json');
    expect(await main(['mitdb', 'verify', '--json', json], io)).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(48 + 2 + 1);
    expect(lines[0]).toBe('100    ok    sha256 ok (hea dat atr)  MLII first 995 checksum -22131 ok; V5 first 1011 checksum 20052 ok');
    expect(lines.slice(0, 48).every((l) => / ok {4}sha256 ok /.test(l))).toBe(true);
    expect(lines.at(-1)).toBe(`48 records in ${MITDB_DIR}: 48 ok, 0 failed`);
    expect(JSON.parse(readFileSync(json, 'utf8')).ok).toBe(true);
  });
  it('prints FAIL lines and exits 1 on a damaged record', async () => {
    const dir = tmp();
    for (const f of readdirSync(MITDB_DIR)) if (f !== '200.dat') symlinkSync(join(MITDB_DIR, f), join(dir, f));
    const dat = readFileSync(join(MITDB_DIR, '200.dat'));
    dat[999] ^= 0x10;
    writeFileSync(join(dir, '200.dat'), dat);
    const io = fakeIo();
    expect(await main(['mitdb', 'verify', '--dir', dir, '--records', '100,200'], io)).toBe(1);
    const lines = io.out().trim().split('\n');
    expect(lines[0]).toMatch(/^100 +ok /);
    expect(lines[1]).toMatch(/^200 +FAIL +sha256 200\.dat mismatch +.*MISMATCH/);
    expect(lines.at(-1)).toBe(`2 records in ${dir}: 1 ok, 1 failed`);
    expect(io.err()).toBe('ecg-monitor: verify failed: 200 [ECG_ERR_SHA256]\n');
  });
});

describe.skipIf(skipWithoutMitdb())('ecg-monitor mitdb fetch (local HTTP server serving ../shared/mitdb)', () => {
  let server: FileServer;
  beforeAll(async () => {
    server = await startFileServer(MITDB_DIR);
  });
  afterAll(() => server.close());

  it('fetches the whole database (48 records), which then verifies; a second run downloads nothing but SHA256SUMS', async () => {
    const dir = tmp();
    const io = fakeIo({});
    expect(await main(['mitdb', 'fetch', '--dir', dir, '--base-url', server.baseUrl], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^48 records in ${dir}: 147 files downloaded \\(9\\d\\.\\d MB\\), 0 already present\\n$`));
    const progress = io.err().trim().split('\n');
    expect(progress).toHaveLength(147);
    expect(progress[0]).toMatch(/^\[1\/3\] SHA256SUMS\.txt [\d.]+ MB, sha256 ok$/);
    expect(progress.at(-1)).toMatch(/^\[147\/147\] \S+ [\d.]+ MB, sha256 ok$/);
    const v = fakeIo();
    expect(await main(['mitdb', 'verify', '--dir', dir], v)).toBe(0);
    expect(v.out()).toContain('48 ok, 0 failed');

    const again = fakeIo({});
    expect(await main(['mitdb', 'fetch', '--dir', dir, '--base-url', server.baseUrl], again)).toBe(0);
    expect(again.out()).toBe(`48 records in ${dir}: 1 files downloaded (0.0 MB), 146 already present\n`);
  });
  it('exits 1 with ECG_ERR_SHA256 when a served file is corrupted', async () => {
    server.faults.corrupt = new Set(['100.atr']);
    try {
      const io = fakeIo({});
      expect(await main(['mitdb', 'fetch', '--dir', tmp(), '--base-url', server.baseUrl, '--records', '100'], io)).toBe(1);
      expect(io.err()).toMatch(/ecg-monitor: 100\.atr: SHA-256 [0-9a-f]{64} of the download from .* does not match [0-9a-f]{64} in SHA256SUMS \[ECG_ERR_SHA256\]\n$/);
    } finally {
      server.faults.corrupt = undefined;
    }
  });
});

/** The built CLI (`npm test` builds first; locally the test skips when dist/ is absent). */
const BUILT_MAIN = resolve('dist/src/cli/main.js');

describe.skipIf(skipWithoutMitdb() || (!existsSync(BUILT_MAIN) && process.env.CI !== 'true'))('spawned ecg-monitor mitdb (smoke)', () => {
  it('`ecg-monitor mitdb verify --records 100,101` exits 0 and prints two ok lines', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BUILT_MAIN, 'mitdb', 'verify', '--records', '100,101'], {
      env: { ...process.env, MITDB_DIR, LOG_LEVEL: 'silent' },
    });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 2).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['100 ok', '101 ok']);
    expect(lines.at(-1)).toBe(`2 records in ${MITDB_DIR}: 2 ok, 0 failed`);
  });
  it('exits 1 naming the code when the folder has no SHA256SUMS', async () => {
    const err = await promisify(execFile)(process.execPath, [BUILT_MAIN, 'mitdb', 'verify', '--dir', tmp()]).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(/SHA256SUMS.* \[ECG_ERR_FILE_NOT_FOUND\]\n$/);
  });
});
