import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { tf, trySetBackend } from '../../src/model/backend.js';
import { loadDataset, loadUsualBeats, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { classifyBatch, loadClassifier, type Classifier } from '../../src/model/predict.js';
import { trainModel } from '../../src/model/train.js';
import { classifyBeats } from '../../src/pipeline/classifyBeats.js';
import { compareToTemplate } from '../../src/pipeline/compareToTemplate.js';
import type { BeatWindow } from '../../src/types.js';

let root: string;
let dataset: BeatDataset;
let classifier: Classifier;

/** Beat windows whose RR features rebuild exactly the dataset's feature rows (seconds -> ms, ratios recomputed). */
function beatsFromDataset(count: number): BeatWindow[] {
  return Array.from({ length: count }, (_, i) => {
    const f = dataset.features.subarray(i * 8, i * 8 + 4);
    return {
      streamId: 'test', sampleIndex: 1000 + 300 * i, fsHz: 360, samplesBefore: 180, paddedSamples: 0,
      samples: dataset.windows.slice(i * 360, (i + 1) * 360),
      rr: { previousRrMs: f[0] * 1000, nextRrMs: f[1] * 1000, localMeanRrMs: f[2] * 1000, recordMeanRrMs: f[3] * 1000, localVariationRrMs: 0 },
    };
  });
}

describe('classifyBeats', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'ecg-classify-'));
    await writeDataset(join(root, 'data'), syntheticDataset({ beatsPerRecord: 8, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 9 }));
    dataset = await loadDataset(join(root, 'data'));
    await trainModel({ model: 'mshan', protocol: 'inter', datasetDir: dataset.dir, dataset, outDir: join(root, 'mshan'), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6 });
    classifier = await loadClassifier(join(root, 'mshan'));
  });
  afterAll(async () => {
    classifier?.model.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('classifies each beat as the batch path does, with probabilities that sum to 1, leaking no tensor', async () => {
    const beats = beatsFromDataset(20);
    const before = tf.memory().numTensors;
    const classified = await lastValueFrom(from(beats).pipe(classifyBeats(classifier), toArray()));
    expect(tf.memory().numTensors).toBe(before);
    const batch = classifyBatch(classifier, dataset.windows.slice(0, 20 * 360), rrRows(beats));
    classified.forEach((c, i) => {
      expect(c.sampleIndex).toBe(beats[i].sampleIndex);
      expect(c.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      c.probabilities.forEach((p, k) => expect(Math.abs(p - batch[i * 5 + k])).toBeLessThan(1e-5));
      expect(c.beatClass).toBe(['N', 'S', 'V', 'F', 'Q'][c.probabilities.indexOf(Math.max(...c.probabilities))]);
      expect(c.rr).toBe(beats[i].rr); // for the timing gate after it
    });
  });

  it('gives a model trained with the usual beat the stream\'s usual beat, as the dataset stored it for training', async () => {
    await trainModel({ model: 'mshan', protocol: 'inter', datasetDir: dataset.dir, dataset, outDir: join(root, 'usual'), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6, usualBeat: true });
    const usual = await loadClassifier(join(root, 'usual'));
    // Each synthetic record is a stream of its own, as in the dataset builder.
    const beats = beatsFromDataset(20).map((b, i) => ({ ...b, streamId: dataset.record[i] }));
    const classified = await lastValueFrom(from(beats).pipe(compareToTemplate(), classifyBeats(usual), toArray()));
    const batch = classifyBatch(usual, dataset.windows.slice(0, 20 * 360), rrRows(beats), { usualBeats: (await loadUsualBeats(dataset)).slice(0, 20 * 360) });
    classified.forEach((c, i) => c.probabilities.forEach((p, k) => expect(Math.abs(p - batch[i * 5 + k])).toBeLessThan(1e-5)));
    // Without compareToTemplate before it there is no usual beat to give: an error, not a guess.
    await expect(lastValueFrom(from(beats).pipe(classifyBeats(usual)))).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
    usual.model.dispose();
  });

  it('feeds a model the features it names (8 of the stream\'s), and refuses one that needs a feature the stream does not make', () => {
    expect(classifier.manifest.input.featureNames).toHaveLength(8); // the synthetic dataset's RR features; the test above checks the values
    const alien = { ...classifier, manifest: { ...classifier.manifest, input: { ...classifier.manifest.input, featureNames: ['previousRrS', 'qtIntervalS'] } } };
    expect(() => classifyBeats(alien)).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/qtIntervalS/) }));
  });

  it('refuses a model whose classes are not the AAMI classes', () => {
    const seedLike = { ...classifier, manifest: { ...classifier.manifest, classes: ['N', 'L', 'R', 'A', 'V'] } };
    expect(() => classifyBeats(seedLike)).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });
});

/** The feature rows the model needs for these beats, computed here independently of rrFeatures.ts. */
function rrRows(beats: BeatWindow[]): Float32Array {
  return Float32Array.from(beats.flatMap((b) => {
    const { previousRrMs: p, nextRrMs: n, localMeanRrMs: l, recordMeanRrMs: r } = b.rr;
    return [p / 1000, n / 1000, l / 1000, r / 1000, p / l, n / l, p / n, l / r];
  }));
}
