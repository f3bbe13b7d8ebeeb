import { mkdir, symlink } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { otherDatabaseDatasetDir, prepareEvaluationInputs, staleDatasetWarnings } from '../../src/eval/evaluationInputs.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { useTemporaryFolder } from '../helpers/temporaryFolder.js';

/**
 * `eval beats --dir PATH` caches the beat dataset of another database under the cache folder; the name was
 * `<basename(PATH)>-<lead>-<positions>`, so two databases with the same folder name shared one cache and rebuilt each
 * other's. The name now ends with a hash of the absolute path.
 */

let work: string;
useTemporaryFolder('ecg-eval-inputs-', (path) => (work = path));

describe('otherDatabaseDatasetDir', () => {
  it('one folder per absolute path: readable name, then 8 hex digits of the path', () => {
    const env = { XDG_CACHE_HOME: '/cache' };
    const a = otherDatabaseDatasetDir('/data/a/db', 'MLII', 'reference', env);
    const b = otherDatabaseDatasetDir('/data/b/db', 'MLII', 'reference', env);
    expect(a).toMatch(/^\/cache\/ecg-monitor\/datasets\/db-MLII-reference-[0-9a-f]{8}$/);
    expect(b).toMatch(/^\/cache\/ecg-monitor\/datasets\/db-MLII-reference-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    // The same database however it is spelled (relative, trailing slash) is the same cache.
    expect(otherDatabaseDatasetDir(relative(process.cwd(), '/data/a/db'), 'MLII', 'reference', env)).toBe(a);
    expect(otherDatabaseDatasetDir('/data/a/db/', 'MLII', 'reference', env)).toBe(a);
    expect(otherDatabaseDatasetDir('/data/a/db', 'V1', 'detector', env)).toMatch(/\/db-V1-detector-[0-9a-f]{8}$/);
  });
});

describe.skipIf(skipWithoutMitdb())('prepareEvaluationInputs with two databases of the same folder name', () => {
  /** `work/<parent>/db` holding links (not copies) to one MIT-BIH record's files. */
  async function linkedDb(parent: string, record: string): Promise<string> {
    const db = join(work, parent, 'db');
    await mkdir(db, { recursive: true });
    for (const ext of ['hea', 'dat', 'atr']) await symlink(join(MITDB_DIR, `${record}.${ext}`), join(db, `${record}.${ext}`));
    return db;
  }

  it('each keeps its own cache: the first is still reused after the second was built', async () => {
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };
    const a = await linkedDb('a', '100');
    const b = await linkedDb('b', '101');
    const inputs = (dir: string, record: string) =>
      prepareEvaluationInputs({ protocol: 'inter', positions: 'reference', dir, records: [record], env });
    const first = await inputs(a, '100');
    expect(first.reused).toBe(false);
    const other = await inputs(b, '101');
    expect(other.datasetDir).not.toBe(first.datasetDir);
    expect(basename(other.datasetDir)).toMatch(/^db-MLII-reference-/);
    const again = await inputs(a, '100');
    expect(again.datasetDir).toBe(first.datasetDir);
    expect(again.reused).toBe(true);
    expect(again.dataset.labels.length).toBe(first.dataset.labels.length);
  });
});

describe('staleDatasetWarnings (eval beats, eval report)', () => {
  const model = (name: string, hash: string) => ({ name, dataset: { dir: '/d', hash } }) as Parameters<typeof staleDatasetWarnings>[0][number];

  it('warns for each model trained on a dataset other than the one its protocol split is cut from', () => {
    const warnings = staleDatasetWarnings([model('a', 'sha256:1111111111111111'), model('b', 'sha256:2222222222222222')], 'sha256:2222222222222222', { kind: 'protocol', protocol: 'inter' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: a was trained on dataset sha256:111111111111, scored on sha256:222222222222: the test split may hold training beats/);
  });

  it('says nothing when the hashes agree, or for whole records of another database (no split to leak)', () => {
    expect(staleDatasetWarnings([model('a', 'sha256:1')], 'sha256:1', { kind: 'protocol', protocol: 'intra' })).toEqual([]);
    expect(staleDatasetWarnings([model('a', 'sha256:1')], 'sha256:2', { kind: 'records', records: ['100'] })).toEqual([]);
  });
});
