import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/fakeIo.js';

describe('dataset build: the default folder (the one train reads) holds only the full default build', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'ecg-dataset-cli-'));
  });
  afterAll(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('refuses --records or --lead without --out (exit 2), and writes nothing', async () => {
    for (const args of [['--records', '100,101'], ['--lead', 'V5']]) {
      const io = fakeIo({ XDG_CACHE_HOME: cache, MITDB_DIR: join(cache, 'no-data') });
      expect(await main(['dataset', 'build', ...args], io)).toBe(2);
      expect(io.err()).toMatch(/--records or --lead build another dataset .* give it its own --out.*ECG_ERR_USAGE/);
    }
    expect(existsSync(join(cache, 'ecg-monitor'))).toBe(false);
  });
});
