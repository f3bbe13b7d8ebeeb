import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { splitBeats } from '../../src/dataset/splits.js';
import { ConfigError } from '../../src/errors.js';
import { bootstrapGross } from '../../src/eval/bootstrap.js';
import { formatHeldOutPatients, HELD_OUT_RULES, LIVE_MONITOR_ROW, scoreHeldOutPatients } from '../../src/eval/heldOutPatients.js';
import { monitorRules } from '../../src/pipeline/rulesAfterModel.js';
import { trySetBackend } from '../../src/model/backend.js';
import { loadDataset, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { loadManifest, type ModelManifest } from '../../src/model/modelIo.js';
import { argmaxRows, classifyBatch, loadClassifier } from '../../src/model/predict.js';
import { trainModel } from '../../src/model/train.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

/**
 * Two patient folds of a tiny MLP on synthetic beats named after the MIT-BIH records (the record files give the
 * evaluation its headers and reference annotations). The pooled matrix is checked against a direct classification
 * of each fold's held-out records.
 */
describe.skipIf(skipWithoutMitdb())('scoreHeldOutPatients', () => {
  let work: string;
  let dataset: BeatDataset;
  const runs: { dir: string; manifest: ModelManifest }[] = [];
  const seed2Runs: { dir: string; manifest: ModelManifest }[] = [];

  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    work = await mkdtemp(join(tmpdir(), 'ecg-heldout-'));
    await writeDataset(join(work, 'data'), syntheticDataset({ beatsPerRecord: 10, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 4 }));
    dataset = await loadDataset(join(work, 'data'));
    for (const fold of [1, 2]) {
      const dir = join(work, `mlp-${fold}`);
      const r = await trainModel({ model: 'mlp', protocol: 'inter', datasetDir: dataset.dir, dataset, outDir: dir, epochs: 1, batchSize: 16, perClassPerEpoch: 20, maxMinutes: 1e6, interValidation: 'records', validationFold: fold });
      r.model.dispose();
      runs.push({ dir, manifest: await loadManifest(dir) });
      const seed2 = join(work, `mlp-seed2-${fold}`);
      (await trainModel({ model: 'mlp', protocol: 'inter', datasetDir: dataset.dir, dataset, outDir: seed2, epochs: 1, batchSize: 16, perClassPerEpoch: 20, maxMinutes: 1e6, interValidation: 'records', validationFold: fold, seed: 2 })).model.dispose();
      seed2Runs.push({ dir: seed2, manifest: await loadManifest(seed2) });
    }
  }, 60_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("scores each fold's model on its own held-out records and sums the matrices", async () => {
    const scores = await scoreHeldOutPatients(runs, { dataset, dir: MITDB_DIR });
    expect(scores.map((x) => x.rules)).toEqual(HELD_OUT_RULES);
    // The rules one by one; the last row is the live monitor's.
    expect(HELD_OUT_RULES.map((r) => Object.values(r).filter(Boolean).length)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(LIVE_MONITOR_ROW).toBe(HELD_OUT_RULES.length - 1);
    expect(HELD_OUT_RULES[LIVE_MONITOR_ROW]).toEqual(monitorRules());
    const [score, gated] = scores;
    const beats = dataset.record.map((record, i) => ({ record, symbol: dataset.symbol[i] }));
    const expected = [0, 1, 2, 3, 4].map(() => [0, 0, 0, 0, 0]);
    for (const [k, fold] of score.folds.entries()) {
      const held = [...new Set(splitBeats(beats, 'inter', { interValidation: 'records', validationFold: k + 1 }).validation.map((i) => dataset.record[i]))].sort();
      expect(fold.records).toEqual(held);
      expect(fold.records.every((r) => DS1_RECORDS.includes(r))).toBe(true);
      // A direct classification of the same beats, without evaluateBeats.
      const idx = dataset.record.flatMap((r, i) => (held.includes(r) ? [i] : []));
      expect(fold.beats).toBe(idx.length);
      const classifier = await loadClassifier(runs[k].dir);
      const windows = new Float32Array(idx.length * 360);
      const features = new Float32Array(idx.length * 8);
      idx.forEach((i, j) => { windows.set(dataset.windows.subarray(i * 360, (i + 1) * 360), j * 360); features.set(dataset.features.subarray(i * 8, (i + 1) * 8), j * 8); });
      argmaxRows(classifyBatch(classifier, windows, features), 5).forEach((p, j) => { if (dataset.labels[idx[j]] < 5) expected[dataset.labels[idx[j]]][p]++; });
      classifier.model.dispose();
    }
    expect(score.folds[0].records).not.toEqual(score.folds[1].records);
    expect(score.pooled.confusion).toEqual(expected);
    // Regular synthetic RR: the AF gate finds no AF and changes nothing.
    expect(gated.pooled.confusion).toEqual(expected);
    // Rows with rules carry intervals over the held-out patients of both folds; the model-alone row has none.
    expect(scores[0].bootstrap).toBeUndefined();
    expect(scores[LIVE_MONITOR_ROW].bootstrap?.records).toBe(score.folds[0].records.length + score.folds[1].records.length);
    // ... from each held-out record's EC57 matrix, kept for paired comparisons (eval folds --against).
    const last = scores[LIVE_MONITOR_ROW];
    expect(last.perRecord!.map((r) => r.record)).toEqual([...score.folds[0].records, ...score.folds[1].records]);
    expect(bootstrapGross(last.perRecord!.map((r) => r.matrix))).toEqual(last.bootstrap);
    expect(formatHeldOutPatients(scores)).toMatch(/intervals over the \d+ held-out patients \(2000 draws\): VEB Se /);
    expect(formatHeldOutPatients(scores)).toMatch(/\nnone {36}\s+\d+\s+0\s+[\d.]+\s+0\.\d{4}.*\nAF {38}\s+\d+\s+0\s.*\nAF \+ P wave \+ QRS \+ template \+ timing {4}\s+\d+.*\n.* \+ atrial run \+ vote\s+\d+/s);
  });

  it('scores a fold given as several runs as their ensemble (mean of the probabilities)', async () => {
    const [score] = await scoreHeldOutPatients([[runs[0], seed2Runs[0]], [runs[1], seed2Runs[1]]], { dataset, dir: MITDB_DIR });
    expect(score.folds.map((f) => f.dir)).toEqual([0, 1].map((k) => `${runs[k].dir}+${seed2Runs[k].dir}`));
    const expected = [0, 1, 2, 3, 4].map(() => [0, 0, 0, 0, 0]);
    const firstAlone = [0, 1, 2, 3, 4].map(() => [0, 0, 0, 0, 0]);
    for (const [k, fold] of score.folds.entries()) {
      const idx = dataset.record.flatMap((r, i) => (fold.records.includes(r) ? [i] : []));
      const windows = new Float32Array(idx.length * 360);
      const features = new Float32Array(idx.length * 8);
      idx.forEach((i, j) => { windows.set(dataset.windows.subarray(i * 360, (i + 1) * 360), j * 360); features.set(dataset.features.subarray(i * 8, (i + 1) * 8), j * 8); });
      const mean = new Float32Array(idx.length * 5);
      for (const run of [runs[k], seed2Runs[k]]) {
        const classifier = await loadClassifier(run.dir);
        const p = classifyBatch(classifier, windows, features);
        p.forEach((x, j) => { mean[j] += x / 2; });
        if (run === runs[k]) argmaxRows(p, 5).forEach((c, j) => { if (dataset.labels[idx[j]] < 5) firstAlone[dataset.labels[idx[j]]][c]++; });
        classifier.model.dispose();
      }
      argmaxRows(mean, 5).forEach((p, j) => { if (dataset.labels[idx[j]] < 5) expected[dataset.labels[idx[j]]][p]++; });
    }
    expect(score.pooled.confusion).toEqual(expected);
    // The second seed does change calls, so the check above tells an ensemble from its first member.
    expect(expected).not.toEqual(firstAlone);
    // Runs of different folds are not one ensemble.
    await expect(scoreHeldOutPatients([[runs[0], seed2Runs[1]]], { dataset, dir: MITDB_DIR })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/share their fold/) });
  });

  it('refuses a run that was not validated on a patient fold', async () => {
    const byBeats = { ...runs[0], manifest: { ...runs[0].manifest, training: { ...runs[0].manifest.training, interValidation: 'beats' } } };
    await expect(scoreHeldOutPatients([byBeats], { dataset, dir: MITDB_DIR })).rejects.toThrow(ConfigError);
  });
});
