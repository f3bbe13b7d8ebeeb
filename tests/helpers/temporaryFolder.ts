import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * A fresh folder under the system's temporary folder for the tests of the enclosing scope (file or describe), handed
 * to `use` before they run and removed with its contents after them.
 */
export function useTemporaryFolder(prefix: string, use: (path: string) => void): void {
  let path = '';
  beforeAll(async () => {
    path = await mkdtemp(join(tmpdir(), prefix));
    use(path);
  });
  afterAll(async () => {
    await rm(path, { recursive: true, force: true });
  });
}
