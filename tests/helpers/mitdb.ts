import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mitdbDir } from '../../src/config.js';

/** The MIT-BIH folder the tests read (MITDB_DIR, set to ../shared/mitdb by vitest.config.ts). */
export const MITDB_DIR = mitdbDir();

/** PhysioNet reference outputs (gqrs detections, perturbed classifier annotations): ../shared/reference. */
export const REFERENCE_DIR = resolve(process.env.REFERENCE_DIR ?? join(MITDB_DIR, '..', 'reference'));

/** True when the MIT-BIH record files are present (100.hea is used as the witness). */
export const haveMitdb = existsSync(join(MITDB_DIR, '100.hea')) && existsSync(join(MITDB_DIR, '100.dat'));

/** True when the reference folder is present. */
export const haveReference = existsSync(join(REFERENCE_DIR, 'gqrs'));

/**
 * Decides whether MIT-BIH tests run. Returns true to skip (data missing, local run); throws when the data is missing
 * and CI=true, because CI must never pass by skipping. Use as `describe.skipIf(skipWithoutMitdb())(...)`.
 */
export function skipWithoutMitdb(): boolean {
  if (haveMitdb) return false;
  if (process.env.CI === 'true') {
    throw new Error(`MIT-BIH data missing at ${MITDB_DIR} and CI=true: set MITDB_DIR or run \`ecg-monitor mitdb fetch\``);
  }
  return true;
}

/** Same as {@link skipWithoutMitdb} for the reference folder. */
export function skipWithoutReference(): boolean {
  if (haveReference) return false;
  if (process.env.CI === 'true') throw new Error(`reference outputs missing at ${REFERENCE_DIR} and CI=true`);
  return true;
}

/** Throws unless MIT-BIH is present: for suites that cannot run without it, even locally. */
export function requireMitdb(): string {
  if (!haveMitdb) throw new Error(`MIT-BIH data missing at ${MITDB_DIR}: set MITDB_DIR or run \`ecg-monitor mitdb fetch\``);
  return MITDB_DIR;
}
