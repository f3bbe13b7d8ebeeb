import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // MIT-BIH sweeps and fuzz runs read tens of MB; the defaults are for unit tests.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { MITDB_DIR: process.env.MITDB_DIR ?? '../shared/mitdb', LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
  },
});
