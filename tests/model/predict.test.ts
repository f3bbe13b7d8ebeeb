/**
 * Inference: the same probabilities (within 1e-4) and classes on every backend available here, the single-beat path
 * equal to the batch path, and no tensor left behind (tf.memory().numTensors unchanged).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { availableBackends, tf, trySetBackend } from '../../src/model/backend.js';
import { loadDataset, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { argmaxRows, classifyBatch, classifyBeat, loadClassifier } from '../../src/model/predict.js';
import { trainModel } from '../../src/model/train.js';

let root: string;
let ds: BeatDataset;
const N = 40;

describe('predict', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'ecg-predict-'));
    await writeDataset(join(root, 'data'), syntheticDataset({ beatsPerRecord: 10, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 4 }));
    ds = await loadDataset(join(root, 'data'));
    // A briefly trained model, so that probabilities are far from uniform and classes differ between beats.
    await trainModel({ model: 'mshan', protocol: 'inter', datasetDir: ds.dir, dataset: ds, outDir: join(root, 'mshan'), epochs: 2, batchSize: 16, perClassPerEpoch: 40, maxMinutes: 1e6 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const windows = () => ds.windows.slice(0, N * 360);
  const features = () => ds.features.slice(0, N * 8);

  it('gives the same probabilities (1e-4) and classes on every available backend', async () => {
    const backends = await availableBackends();
    expect(backends).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    const results: Record<string, Float32Array> = {};
    for (const backend of backends) {
      expect(await trySetBackend(backend)).toBe(true);
      const classifier = await loadClassifier(join(root, 'mshan'));
      results[backend] = classifyBatch(classifier, windows(), features());
      classifier.model.dispose();
    }
    await trySetBackend('wasm');
    const reference = results.wasm;
    const classes = argmaxRows(reference, 5);
    expect(new Set(classes).size).toBeGreaterThan(1);
    for (const backend of backends) {
      let maxDiff = 0;
      for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(results[backend][i] - reference[i]));
      expect(maxDiff, backend).toBeLessThan(1e-4);
      expect(Array.from(argmaxRows(results[backend], 5)), backend).toEqual(Array.from(classes));
    }
  });

  it('classifyBeat equals the matching row of classifyBatch, and neither leaks tensors', async () => {
    await trySetBackend('wasm');
    const classifier = await loadClassifier(join(root, 'mshan'));
    const before = tf.memory().numTensors;
    const batch = classifyBatch(classifier, windows(), features(), { batchSize: 7 });
    for (const i of [0, 13, N - 1]) {
      const one = classifyBeat(classifier, ds.windows.slice(i * 360, (i + 1) * 360), ds.features.slice(i * 8, (i + 1) * 8));
      for (let c = 0; c < 5; c++) expect(Math.abs(one[c] - batch[i * 5 + c])).toBeLessThan(1e-6);
      expect(one.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(tf.memory().numTensors).toBe(before);
    classifier.model.dispose();
  });

  it('rejects inputs of the wrong size with ECG_ERR_MODEL', async () => {
    const classifier = await loadClassifier(join(root, 'mshan'));
    expect(() => classifyBatch(classifier, new Float32Array(359), new Float32Array(8))).toThrow(expect.objectContaining({ code: 'ECG_ERR_MODEL' }));
    expect(() => classifyBatch(classifier, new Float32Array(720), new Float32Array(8))).toThrow(/16 \(8 per beat\)/);
    classifier.model.dispose();
  });

  it('refuses a network that is not the one its manifest describes, even when it accepts the inputs (ECG_ERR_MODEL)', async () => {
    // An MLP's network under the MSHAN's manifest: the same inputs and classes, another model.
    const mlp = await trainModel({ model: 'mlp', protocol: 'inter', datasetDir: ds.dir, dataset: ds, outDir: join(root, 'mlp'), epochs: 1, batchSize: 16, perClassPerEpoch: 10, maxMinutes: 1e6 });
    mlp.model.dispose();
    const mixed = join(root, 'mixed');
    await cp(join(root, 'mlp'), mixed, { recursive: true });
    await cp(join(root, 'mshan', 'manifest.json'), join(mixed, 'manifest.json'));
    await expect(loadClassifier(mixed)).rejects.toThrow(expect.objectContaining({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/mixed: model.json does not match manifest.json \(\d+ parameters, the manifest's \d+ \(mshan\)\)/) }));
    // A manifest that names more classes than the network has outputs.
    const manifest = JSON.parse(await readFile(join(root, 'mlp', 'manifest.json'), 'utf8')) as { classes: string[] };
    await writeFile(join(mixed, 'manifest.json'), JSON.stringify({ ...manifest, classes: [...manifest.classes, 'X'] }));
    await expect(loadClassifier(mixed)).rejects.toThrow(/5 classes out, the manifest's 6/);
    const intact = await loadClassifier(join(root, 'mlp'));
    intact.model.dispose();
  });
});
