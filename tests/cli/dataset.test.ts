import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { useTemporaryFolder } from '../helpers/temporaryFolder.js';

describe('dataset build: the default folder (the one train reads) holds only the full default build', () => {
  let cache: string;
  useTemporaryFolder('ecg-dataset-cli-', (path) => (cache = path));

  it('refuses --records or --lead without --out (exit 2), and writes nothing', async () => {
    for (const args of [['--records', '100,101'], ['--lead', 'V5']]) {
      const io = fakeIo({ XDG_CACHE_HOME: cache, MITDB_DIR: join(cache, 'no-data') });
      expect(await main(['dataset', 'build', ...args], io)).toBe(2);
      expect(io.err()).toMatch(/--records or --lead build another dataset .* give it its own --out.*ECG_ERR_USAGE/);
    }
    expect(existsSync(join(cache, 'ecg-monitor'))).toBe(false);
  });
});
