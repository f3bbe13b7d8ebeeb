import { describe, expect, it } from 'vitest';
import { staleDatasetWarnings } from '../../src/cli/commands/evalBeats.js';

describe('staleDatasetWarnings (eval beats)', () => {
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
