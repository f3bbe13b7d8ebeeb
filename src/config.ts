import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the MIT-BIH Arrhythmia Database lives: `MITDB_DIR` if set, else the folder `ecg-monitor mitdb fetch` fills by default.
 * Tests and CI set MITDB_DIR=../shared/mitdb (see vitest.config.ts and .ci/run).
 */
export function mitdbDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MITDB_DIR ?? defaultMitdbDir(env));
}

/** The download target when MITDB_DIR is not set: `$XDG_CACHE_HOME/ecg-monitor/mitdb`, else `~/.cache/ecg-monitor/mitdb`. */
export function defaultMitdbDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ecg-monitor', 'mitdb');
}

/** Default folder of the beat dataset built from MIT-BIH with the given beat positions (`ecg-monitor dataset build`). */
export function defaultDatasetDir(positions: 'reference' | 'detector' = 'reference', env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ecg-monitor', 'datasets', `mitdb-${positions}`);
}

/** The 48 records of the MIT-BIH Arrhythmia Database (PhysioNet `mitdb/RECORDS`). */
export const MITDB_RECORDS: readonly string[] = [
  '100', '101', '102', '103', '104', '105', '106', '107', '108', '109', '111', '112', '113', '114', '115', '116',
  '117', '118', '119', '121', '122', '123', '124', '200', '201', '202', '203', '205', '207', '208', '209', '210',
  '212', '213', '214', '215', '217', '219', '220', '221', '222', '223', '228', '230', '231', '232', '233', '234',
];

/** The package's root folder (where package.json and models/ are), from src/ or from dist/src/ alike. */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, here.includes(`${join('dist', 'src')}`) ? '../..' : '..');
}

/**
 * A model given by name or folder: the folder of that name under `modelsRoot` (the package's models/ by default)
 * when there is one, else the path as given (resolved). Whether it holds a model is for the caller to check.
 */
export function resolveModelDir(nameOrDir: string, modelsRoot = join(packageRoot(), 'models')): string {
  const named = join(modelsRoot, nameOrDir);
  return existsSync(named) ? named : resolve(nameOrDir);
}

/** The model the live monitor uses unless told otherwise: MSHAN trained inter-patient (DS1), shipped in models/. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'models', 'mshan-inter');
}
