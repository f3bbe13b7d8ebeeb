/**
 * Training on a small synthetic dataset (tests/CI never train a full model): reproducible from the seed, and a run
 * killed after an epoch then resumed ends with bit-identical weights to an uninterrupted run.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { trySetBackend } from '../../src/model/backend.js';
import { loadDataset, loadUsualBeats, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { loadModel, saveModel } from '../../src/model/modelIo.js';
import { classifyBatch, loadClassifier } from '../../src/model/predict.js';
import { featureColumns, selectColumns } from '../../src/pipeline/beatFeatures.js';
import { distillationLoss, epochIndices, largestRemainder, metricsFromConfusion, soften, trainModel, trainWithRefit, type TrainOptions } from '../../src/model/train.js';
import { SeededRandom } from '../../src/dataset/seededRandom.js';
import type { ProtocolSplit } from '../../src/dataset/splits.js';

let root: string;
let dataset: BeatDataset;

/** A seed whose tiny run below peaks in validation before its last epoch (found by trying; the test checks it). */
const KEEP_SEED = 4;

const weightsOf = async (dir: string) => (await loadModel(dir)).getWeights().map((w) => Array.from(w.dataSync()));

describe('trainModel', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'ecg-train-'));
    await writeDataset(join(root, 'data'), syntheticDataset({ beatsPerRecord: 12, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 9 }));
    dataset = await loadDataset(join(root, 'data'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const base = (out: string): TrainOptions => ({
    model: 'mshan', protocol: 'inter', datasetDir: join(root, 'data'), dataset, outDir: join(root, out),
    epochs: 3, batchSize: 16, perClassPerEpoch: 24, patience: 10, maxMinutes: 1e6, seed: 2,
    // Augmentation draws from the checkpointed generator: resume must reproduce it too.
    augment: { amplitude: 0.2, shiftSamples: 3, noise: 0.02 }, classQuota: { N: 40, S: 24, V: 24, F: 12, Q: 6 },
    // A decay after every stale epoch, so that the checkpointed learning rate matters within three epochs.
    lrDecay: { factor: 0.5, patience: 1, min: 1e-6 },
  });

  it('a killed-then-resumed run ends with the same weights as an uninterrupted one', async () => {
    const lines: string[] = [];
    const straight = await trainModel({ ...base('straight'), progress: { write: (t: string) => lines.push(t) } });
    expect(straight.stoppedBy).toBe('epochs');
    expect(straight.history.map((h) => h.epoch)).toEqual([1, 2, 3]);

    const killed = await trainModel({ ...base('resumed'), stopAfterEpoch: 1 });
    expect(killed.stoppedBy).toBe('interrupted');
    expect(existsSync(join(root, 'resumed', 'checkpoint', 'latest'))).toBe(true);
    expect(existsSync(join(root, 'resumed', 'model.json'))).toBe(false);
    const resumed = await trainModel({ ...base('resumed'), resume: true });
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(resumed.bestEpoch).toBe(straight.bestEpoch);

    expect(await weightsOf(join(root, 'resumed'))).toEqual(await weightsOf(join(root, 'straight')));
    expect(resumed.history.map((h) => h.loss)).toEqual(straight.history.map((h) => h.loss));
    const decays = lines.filter((l) => l.startsWith('learning rate ->')).length;
    expect(straight.manifest.training.finalLearningRate).toBeCloseTo(1e-3 * 0.5 ** decays, 12);
    const manifest = JSON.parse(await readFile(join(root, 'straight', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ model: 'mshan', protocol: 'inter', classes: ['N', 'S', 'V', 'F', 'Q'], dataset: { hash: dataset.hash } });
    expect(manifest.training.balance).toBe('sampling');
    expect(manifest.training.balanceDescription).toMatch(/class-balanced sampling/);
    expect(manifest.metrics.test.count).toBeGreaterThan(0);
    expect(existsSync(join(root, 'straight', 'checkpoint'))).toBe(false);
  });

  it('refuses a dataset of a few records (dataset build --records) under a protocol\'s name, before training', async () => {
    await writeDataset(join(root, 'few'), syntheticDataset({ beatsPerRecord: 12, records: ['100', '101', '232'], seed: 9 }));
    await expect(trainModel({ ...base('few-model'), datasetDir: join(root, 'few'), dataset: undefined })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/lacks 41/) });
    expect(existsSync(join(root, 'few-model'))).toBe(false);
  });

  it('resuming with different options is refused with ECG_ERR_MODEL', async () => {
    await trainModel({ ...base('mismatch'), epochs: 2, stopAfterEpoch: 1 });
    await expect(trainModel({ ...base('mismatch'), seed: 3, resume: true })).rejects.toMatchObject({
      code: 'ECG_ERR_MODEL', message: expect.stringMatching(/checkpoint of a different run/),
    });
  });

  it('record balance: recorded in the manifest, part of the resume fingerprint, refused without balanced sampling', async () => {
    const opts = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 2, recordBalance: 0.5 });
    const run = await trainModel({ ...opts('record-balance'), stopAfterEpoch: 1 });
    expect(run.stoppedBy).toBe('interrupted');
    await expect(trainModel({ ...opts('record-balance'), recordBalance: 0, resume: true })).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
    const done = await trainModel({ ...opts('record-balance'), resume: true });
    expect(done.manifest.training).toMatchObject({ recordBalance: 0.5, balanceDescription: expect.stringMatching(/power 0\.5/) });
    const plain = await trainModel({ ...base('record-balance-1'), model: 'cnn', epochs: 1 });
    expect(plain.manifest.training).not.toHaveProperty('recordBalance');
    await expect(trainModel({ ...opts('record-balance-w'), balance: 'weights' })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    await expect(trainModel({ ...opts('record-balance-x'), recordBalance: 1.5 })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });

  it('keep last: the same run, but the last epoch\'s weights are saved instead of the best validation epoch\'s', async () => {
    const opts = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 4, seed: KEEP_SEED });
    const best = await trainModel({ ...opts('keep-best'), keepCheckpoints: true });
    const last = await trainModel({ ...opts('keep-last'), keep: 'last' });
    const f1s = best.history.map((h) => h.validation.macroF1);
    // A run whose best validation epoch is not its last, so that the two choices differ.
    expect(best.bestEpoch).toBe(f1s.indexOf(Math.max(...f1s)) + 1);
    expect(best.bestEpoch).toBeLessThan(4);
    // Same trajectory: the choice of saved weights changes neither sampling nor the learning-rate schedule.
    expect(last.history.map((h) => [h.loss, h.learningRate, h.validation.macroF1])).toEqual(best.history.map((h) => [h.loss, h.learningRate, h.validation.macroF1]));
    expect(last.bestEpoch).toBe(4);
    expect(last.manifest.training).toMatchObject({ keep: 'last', bestEpoch: 4 });
    expect(best.manifest.training).toMatchObject({ keep: 'best' });
    expect(last.manifest.metrics.validation?.macroF1).toBe(f1s[3]);
    // The saved model is the weights at the end of epoch 4 (the best run's last checkpoint holds them).
    const checkpoint = await readFile(join(root, 'keep-best', 'checkpoint', 'epoch-0004', 'weights.bin'));
    const lastEpoch = Array.from(new Float32Array(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength / 4));
    expect((await weightsOf(join(root, 'keep-last'))).flat()).toEqual(lastEpoch);
    expect((await weightsOf(join(root, 'keep-best'))).flat()).not.toEqual(lastEpoch);
  });

  it('keep average: the same run, the mean of the last epoch\'s step weights saved, and a resume gives the same mean', async () => {
    const opts = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 4, seed: KEEP_SEED });
    const last = await trainModel({ ...opts('avg-last'), keep: 'last' });
    await trainModel({ ...opts('avg-third'), epochs: 3, keep: 'last' }); // the same run's first three epochs
    const averaged = await trainModel({ ...opts('avg'), keep: 'average' });
    expect(averaged.history.map((h) => [h.loss, h.learningRate, h.validation.macroF1])).toEqual(last.history.map((h) => [h.loss, h.learningRate, h.validation.macroF1]));
    expect(averaged.manifest.training).toMatchObject({ keep: 'average', bestEpoch: 4 });
    // The manifest's validation figures are the averaged weights' own, not the last epoch's.
    expect(averaged.manifest.metrics.validation?.count).toBe(last.manifest.metrics.validation?.count);
    expect(averaged.manifest.metrics.validation?.macroF1).not.toBe(last.manifest.metrics.validation?.macroF1);
    const [third, fourth] = [(await weightsOf(join(root, 'avg-third'))).flat(), (await weightsOf(join(root, 'avg-last'))).flat()];
    const mean = (await weightsOf(join(root, 'avg'))).flat();
    expect(mean).not.toEqual(fourth);
    // The mean of epoch 4's steps lies nearer the weights at its end than the weights at its start do.
    const distance = (a: number[], b: number[]) => Math.sqrt(a.reduce((sum, v, i) => sum + (v - b[i]) ** 2, 0));
    expect(distance(mean, fourth)).toBeGreaterThan(0);
    expect(distance(mean, fourth)).toBeLessThan(distance(third, fourth));
    // Checkpoints fall between epochs, where the mean restarts: an interrupted run resumes to the same weights.
    await trainModel({ ...opts('avg-resumed'), keep: 'average', stopAfterEpoch: 2 });
    await trainModel({ ...opts('avg-resumed'), keep: 'average', resume: true });
    expect(await weightsOf(join(root, 'avg-resumed'))).toEqual(await weightsOf(join(root, 'avg')));
  });

  it('mixup: the blends come from the checkpointed generator (a resumed run ends the same), recorded in the manifest', async () => {
    const opts = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 2, mixup: { alpha: 0.4 } });
    const mixed = await trainModel(opts('mix'));
    expect(mixed.manifest.training).toMatchObject({ mixup: { alpha: 0.4 } });
    expect(await weightsOf(join(root, 'mix'))).not.toEqual(await weightsOf((await trainModel({ ...opts('mix-off'), mixup: undefined })).outDir));
    await trainModel({ ...opts('mix-resumed'), stopAfterEpoch: 1 });
    await trainModel({ ...opts('mix-resumed'), resume: true });
    expect(await weightsOf(join(root, 'mix-resumed'))).toEqual(await weightsOf(join(root, 'mix')));
    // Resuming a run without mixup as one with it is refused: the options are part of the checkpoint's fingerprint.
    await trainModel({ ...opts('mix-other'), mixup: undefined, stopAfterEpoch: 1 });
    await expect(trainModel({ ...opts('mix-other'), resume: true })).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
    await expect(trainModel({ ...opts('mix-bad'), mixup: { alpha: 0 } })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });

  it('leaves no tensors behind per epoch or per step (with mixup, whose blends are extra tensors)', async () => {
    const left = async (out: string, epochs: number) => {
      const before = tf.memory().numTensors;
      const run = await trainModel({ ...base(out), model: 'cnn', epochs, mixup: { alpha: 0.4 } });
      run.model.dispose();
      return tf.memory().numTensors - before;
    };
    // What one run keeps (its class-weight tensor, the optimizer's state) does not grow with the epochs it ran.
    expect(await left('tensors-3', 3)).toBe(await left('tensors-1', 1));
  });

  it('is reproducible from the seed and changes with it (cnn, class weights)', async () => {
    const opts = (out: string, seed: number): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 1, balance: 'weights', seed });
    await trainModel(opts('a', 5));
    await trainModel(opts('b', 5));
    await trainModel(opts('c', 6));
    expect(await weightsOf(join(root, 'a'))).toEqual(await weightsOf(join(root, 'b')));
    expect(await weightsOf(join(root, 'a'))).not.toEqual(await weightsOf(join(root, 'c')));
  });

  it('trains on the named feature subset and size, recorded in the manifest; an unknown feature name or a size for a baseline is refused', async () => {
    const subset = ['previousOverLocal', 'nextRrS'];
    const result = await trainModel({ ...base('subset'), epochs: 1, features: subset, size: { filters: 4, gruUnits: 6 } });
    expect(result.manifest.input.featureNames).toEqual(subset);
    expect(result.manifest.training.size).toEqual({ filters: 4, gruUnits: 6 });
    expect(result.model.inputs[1].shape).toEqual([null, 2]);
    expect(result.model.getLayer('gru').getWeights()[1].shape).toEqual([6, 18]);
    // The subset's normalisation is that of those two columns of the full rows.
    const column = dataset.featureNames.indexOf('nextRrS');
    const values = Array.from({ length: dataset.count }, (_, i) => dataset.features[i * dataset.featureCount + column]);
    expect(result.manifest.normalisation.featureMean[1]).toBeGreaterThan(Math.min(...values));
    expect(result.manifest.normalisation.featureMean[1]).toBeLessThan(Math.max(...values));
    await expect(trainModel({ ...base('unknown'), epochs: 1, features: ['noSuchFeature'] })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    await expect(trainModel({ ...base('sized-cnn'), model: 'cnn', epochs: 1, size: { filters: 4 } })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });

  it('refit: a fresh model trained on training + validation beats for the epochs and learning rates of the search run', async () => {
    const lines: string[] = [];
    const options: TrainOptions = { ...base('refit'), progress: { write: (t: string) => lines.push(t) } };
    const search = await trainModel({ ...options, outDir: join(root, 'refit-search-alone') });
    const refit = await trainWithRefit(options);
    expect(existsSync(join(root, 'refit', 'search'))).toBe(false);
    const b = search.bestEpoch;
    expect(refit.history.map((h) => h.learningRate)).toEqual(search.history.slice(0, b).map((h) => h.learningRate));
    const { counts } = refit.manifest.dataset;
    expect(counts.validation).toBe(0);
    expect(counts.train).toBe(search.manifest.dataset.counts.train + search.manifest.dataset.counts.validation);
    expect(counts.test).toBe(search.manifest.dataset.counts.test);
    expect(refit.manifest.training).toMatchObject({ bestEpoch: b, epochsRun: b, refit: { bestEpoch: b, epochsRun: 3 } });
    // The model is chosen by the search run's validation figures: those are the ones reported.
    expect(refit.manifest.metrics.validation).toEqual(search.manifest.metrics.validation);
    expect(refit.manifest.metrics.test!.count).toBe(search.manifest.metrics.test!.count);
    expect(await weightsOf(join(root, 'refit'))).not.toEqual(await weightsOf(join(root, 'refit-search-alone')));

    // --resume reuses a finished search, and the same search gives the same refit.
    await trainModel({ ...options, outDir: join(root, 'refit-again', 'search') });
    const again = await trainWithRefit({ ...options, outDir: join(root, 'refit-again'), resume: true });
    expect(lines.some((l) => l.startsWith('search run already finished'))).toBe(true);
    expect(again.history.length).toBe(b);
    expect(await weightsOf(join(root, 'refit-again'))).toEqual(await weightsOf(join(root, 'refit')));

    await trainModel({ ...options, epochs: 1, outDir: join(root, 'refit-other', 'search') });
    await expect(trainWithRefit({ ...options, seed: 3, outDir: join(root, 'refit-other'), resume: true })).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
  });

  it('refit: killed then resumed, it ends with the same weights', async () => {
    const plan = { learningRates: [1e-3, 5e-4, 2.5e-4], search: { bestEpoch: 3, epochsRun: 5, stoppedBy: 'early-stopping' } };
    const straight = await trainModel({ ...base('refit-straight'), refit: plan });
    expect(straight.history.map((h) => h.learningRate)).toEqual(plan.learningRates);
    await trainModel({ ...base('refit-resumed'), refit: plan, stopAfterEpoch: 1 });
    await trainModel({ ...base('refit-resumed'), refit: plan, resume: true });
    expect(await weightsOf(join(root, 'refit-resumed'))).toEqual(await weightsOf(join(root, 'refit-straight')));
  });

  it('usual beat: a second window channel read from the dataset, used by the network, resumed exactly, checked on teachers', async () => {
    const opts = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 2, usualBeat: true });
    const run = await trainModel(opts('usual'));
    expect(run.model.inputs[0].shape).toEqual([null, 360, 2]);
    run.model.dispose();
    expect(run.manifest.input.usualBeat).toBe(true);
    const plain = await trainModel({ ...opts('usual-off'), usualBeat: undefined });
    expect(plain.manifest.input).not.toHaveProperty('usualBeat');
    expect(plain.model.inputs[0].shape).toEqual([null, 360, 1]);
    plain.model.dispose();

    // The network reads the second channel: other usual beats, other probabilities; none at all is an error.
    const c = await loadClassifier(join(root, 'usual'));
    const rows = selectColumns(dataset.features, dataset.featureCount, featureColumns(dataset.featureNames, c.manifest.input.featureNames));
    const usualBeats = await loadUsualBeats(dataset);
    const own = classifyBatch(c, dataset.windows, rows, { usualBeats });
    const itself = classifyBatch(c, dataset.windows, rows, { usualBeats: dataset.windows });
    expect(Math.max(...own.map((p, i) => Math.abs(p - itself[i])))).toBeGreaterThan(1e-3);
    expect(() => classifyBatch(c, dataset.windows, rows)).toThrow(expect.objectContaining({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/usual beat beside its window .*none given/) }));
    c.model.dispose();
    // Its network under a manifest that says one channel is refused at load.
    const { usualBeat: _, ...oneChannel } = run.manifest.input;
    await cp(join(root, 'usual'), join(root, 'usual-mislabelled'), { recursive: true });
    await writeFile(join(root, 'usual-mislabelled', 'manifest.json'), JSON.stringify({ ...run.manifest, input: oneChannel }));
    await expect(loadClassifier(join(root, 'usual-mislabelled'))).rejects.toMatchObject({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/inputs \[null,360,2\].*window of 360 samples and 8 features/) });

    // Killed and resumed, it ends the same; a checkpoint without the usual beat is not resumed as one with it.
    await trainModel({ ...opts('usual-resumed'), stopAfterEpoch: 1 });
    (await trainModel({ ...opts('usual-resumed'), resume: true })).model.dispose();
    expect(await weightsOf(join(root, 'usual-resumed'))).toEqual(await weightsOf(join(root, 'usual')));
    await trainModel({ ...opts('usual-other'), usualBeat: undefined, stopAfterEpoch: 1 });
    await expect(trainModel({ ...opts('usual-other'), resume: true })).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
    // A teacher must see what the student sees.
    await expect(trainModel({ ...opts('usual-student'), teachers: { dirs: [join(root, 'usual-off')], weight: 1 } })).rejects.toMatchObject({
      code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/teacher .* has no usual beat beside the window, the student has one/),
    });
    (await trainModel({ ...opts('usual-student'), teachers: { dirs: [join(root, 'usual')], weight: 1 }, epochs: 1 })).model.dispose();
  });

  it('distillation: the teachers\' mean probabilities join the target; a teacher fed other inputs is refused', async () => {
    const cnn = (out: string): TrainOptions => ({ ...base(out), model: 'cnn', epochs: 2, augment: undefined });
    // A teacher that calls nearly everything V: the tiny CNN with a large bias on V's output.
    const teacher = await trainModel({ ...cnn('teacher'), epochs: 1 });
    const head = teacher.model.layers[teacher.model.layers.length - 1];
    const [kernel, bias] = head.getWeights();
    head.setWeights([kernel, tf.tidy(() => bias.add(tf.oneHot(2, 5).mul(20)))]);
    await saveModel(teacher.model, join(root, 'teacher-v'), teacher.manifest);
    teacher.model.dispose();

    const plain = await trainModel(cnn('student-plain'));
    const taught = await trainModel({ ...cnn('student-taught'), teachers: { dirs: [join(root, 'teacher-v')], weight: 1 } });
    const vShare = async (dir: string) => {
      const c = await loadClassifier(dir);
      const columns = featureColumns(dataset.featureNames, c.manifest.input.featureNames);
      const p = classifyBatch(c, dataset.windows, selectColumns(dataset.features, dataset.featureCount, columns));
      c.model.dispose();
      let v = 0;
      for (let i = 0; i < dataset.count; i++) if (p.subarray(i * 5, i * 5 + 5).indexOf(Math.max(...p.subarray(i * 5, i * 5 + 5))) === 2) v++;
      return v / dataset.count;
    };
    expect(await vShare(join(root, 'student-taught'))).toBeGreaterThan(0.9);
    expect(await vShare(join(root, 'student-plain'))).toBeLessThan(0.6);
    expect(taught.manifest.training).toMatchObject({ distillation: { weight: 1, teachers: [{ dir: join(root, 'teacher-v'), datasetHash: dataset.hash }] } });
    expect(plain.manifest.training.distillation).toBeNull();
    plain.model.dispose(); taught.model.dispose();

    // Killed and resumed, a distilled run ends with the same weights (the teachers are a pure function of the batch).
    const taughtOptions = { ...cnn('student-resumed'), teachers: { dirs: [join(root, 'teacher-v')], weight: 1 } };
    await trainModel({ ...taughtOptions, stopAfterEpoch: 1 });
    (await trainModel({ ...taughtOptions, resume: true })).model.dispose();
    expect(await weightsOf(join(root, 'student-resumed'))).toEqual(await weightsOf(join(root, 'student-taught')));
    // Temperature: 1 is the default bit for bit; another one trains other weights, is recorded, and resumes exactly.
    const atOne = await trainModel({ ...cnn('student-t1'), teachers: { dirs: [join(root, 'teacher-v')], weight: 1, temperature: 1 } });
    atOne.model.dispose();
    expect(await weightsOf(join(root, 'student-t1'))).toEqual(await weightsOf(join(root, 'student-taught')));
    const warmOptions = { ...cnn('student-t3'), teachers: { dirs: [join(root, 'teacher-v')], weight: 0.5, temperature: 3 } };
    const warm = await trainModel(warmOptions);
    warm.model.dispose();
    expect(warm.manifest.training).toMatchObject({ distillation: { weight: 0.5, temperature: 3 }, loss: expect.stringMatching(/3² x cross-entropy .* softened at temperature 3/) });
    expect(taught.manifest.training.distillation).not.toHaveProperty('temperature');
    await trainModel({ ...cnn('student-t3-half'), teachers: { dirs: [join(root, 'teacher-v')], weight: 0.5 } }).then((r) => r.model.dispose());
    expect(await weightsOf(join(root, 'student-t3'))).not.toEqual(await weightsOf(join(root, 'student-t3-half')));
    await trainModel({ ...warmOptions, outDir: join(root, 'student-t3-resumed'), stopAfterEpoch: 1 });
    (await trainModel({ ...warmOptions, outDir: join(root, 'student-t3-resumed'), resume: true })).model.dispose();
    expect(await weightsOf(join(root, 'student-t3-resumed'))).toEqual(await weightsOf(join(root, 'student-t3')));
    await expect(trainModel({ ...cnn('student-t0'), teachers: { dirs: [join(root, 'teacher-v')], weight: 1, temperature: 0 } })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    // A checkpoint made with other teachers or another weight is not resumed.
    await trainModel({ ...cnn('distil-mismatch'), teachers: { dirs: [join(root, 'teacher-v')], weight: 0.5 }, stopAfterEpoch: 1 });
    await expect(trainModel({ ...cnn('distil-mismatch'), teachers: { dirs: [join(root, 'teacher-v')], weight: 0.3 }, resume: true })).rejects.toMatchObject({ code: 'ECG_ERR_MODEL' });
    // A teacher trained on other features cannot be fed the student's inputs.
    const other = await trainModel({ ...cnn('teacher-other-features'), epochs: 1, features: ['previousOverLocal'] });
    other.model.dispose();
    await expect(trainModel({ ...cnn('student-refused'), teachers: { dirs: [join(root, 'teacher-other-features')], weight: 0.5 } })).rejects.toMatchObject({
      code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/teacher .* has features/),
    });
    await expect(trainModel({ ...cnn('student-no-weight'), teachers: { dirs: [join(root, 'teacher-v')], weight: 0 } })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    await expect(trainWithRefit({ ...cnn('student-refit'), teachers: { dirs: [join(root, 'teacher-v')], weight: 1 } })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
  });
});

describe('distillationLoss', () => {
  // Hand-computed in plain numbers: softmax(log p / T) is p^(1/T) renormalised.
  const softenedByHand = (p: number[], t: number) => {
    const powered = p.map((x) => x ** (1 / t));
    const sum = powered.reduce((a, b) => a + b, 0);
    return powered.map((x) => x / sum);
  };
  const crossEntropyByHand = (target: number[], of: number[]) => -target.reduce((sum, q, i) => sum + q * Math.log(of[i]), 0);

  it('is (1 - w) x CE(label, p) + w x T² x CE(teachers softened, student softened), per beat', () => {
    const student = [0.7, 0.1, 0.15, 0.04, 0.01];
    const teacher = [0.5, 0.3, 0.1, 0.06, 0.04];
    const label = [1, 0, 0, 0, 0];
    for (const [weight, t] of [[1, 2], [0.5, 3], [0.3, 1]] as const) {
      const got = tf.tidy(() => distillationLoss(tf.tensor2d([student]), tf.tensor2d([label]), soften(tf.tensor2d([teacher]), t), weight, t).dataSync()[0]);
      const expected = (1 - weight) * crossEntropyByHand(label, student) + weight * t * t * crossEntropyByHand(softenedByHand(teacher, t), softenedByHand(student, t));
      expect(got).toBeCloseTo(expected, 4);
    }
  });

  it('softening flattens a distribution and keeps its order; T = 1 leaves it as it is', () => {
    const p = [0.8, 0.15, 0.05];
    const [one, four] = [1, 4].map((t) => Array.from(tf.tidy(() => soften(tf.tensor2d([p]), t).dataSync())));
    one.forEach((x, i) => expect(x).toBeCloseTo(p[i], 6));
    four.forEach((x, i) => expect(x).toBeCloseTo(softenedByHand(p, 4)[i], 6));
    expect(four[0]).toBeLessThan(p[0]);
    expect(four[0]).toBeGreaterThan(four[1]);
    expect(four[1]).toBeGreaterThan(four[2]);
  });
});

describe('metricsFromConfusion', () => {
  it('computes Se, +P, F1, accuracy and a macro F1 over the listed classes', () => {
    const m = metricsFromConfusion([[8, 2], [1, 9]], ['A', 'B'], ['A', 'B']);
    expect(m.perClass.A.se).toBeCloseTo(0.8);
    expect(m.perClass.A.ppv).toBeCloseTo(8 / 9);
    expect(m.perClass.B.f1).toBeCloseTo((2 * 0.9 * (9 / 11)) / (0.9 + 9 / 11));
    expect(m.accuracy).toBeCloseTo(0.85);
    expect(m.macroF1).toBeCloseTo((m.perClass.A.f1 + m.perClass.B.f1) / 2);
  });
});

describe('epochIndices: sharing a class quota among records', () => {
  /** Record A has 90 V beats, B 10, C 1 (and every record 5 N beats); only V is counted below. */
  const recordOf = [...Array(90).fill('A'), ...Array(10).fill('B'), 'C', ...Array(15).fill('N')].map((r, i) => (r === 'N' ? ['A', 'B', 'C'][i % 3] : r));
  const labels = Int8Array.from(recordOf.map((_, i) => (i < 101 ? 2 : 0)));
  const split = { labels, train: recordOf.map((_, i) => i), classes: ['N', 'S', 'V', 'F', 'Q'] } as unknown as ProtocolSplit;
  const vFrom = (indices: number[]) => {
    const counts: Record<string, number> = {};
    for (const i of indices) if (labels[i] === 2) counts[recordOf[i]] = (counts[recordOf[i]] ?? 0) + 1;
    return counts;
  };
  const quota = (c: number) => (c === 2 ? 101 : 15);

  it('by default draws in proportion to the beats; exponent 0.5 and 0 shift the quota to the smaller records', () => {
    expect(vFrom(epochIndices(split, 'sampling', quota, 20, new SeededRandom(1)))).toEqual({ A: 90, B: 10, C: 1 });
    // sqrt shares of 101: 9.49 : 3.16 : 1 -> 70.2, 23.4, 7.4
    expect(vFrom(epochIndices(split, 'sampling', quota, 20, new SeededRandom(1), { recordOf, exponent: 0.5 }))).toEqual({ A: 70, B: 24, C: 7 });
    // equal shares: 34, 34, 33, but C's one beat is repeated at most maxOversample times
    expect(vFrom(epochIndices(split, 'sampling', quota, 20, new SeededRandom(1), { recordOf, exponent: 0 }))).toEqual({ A: 34, B: 34, C: 20 });
    expect(vFrom(epochIndices(split, 'sampling', quota, 5, new SeededRandom(1), { recordOf, exponent: 0 }))).toEqual({ A: 34, B: 34, C: 5 });
  });

  it('draws without replacement within a record while it has enough beats, and is seeded', () => {
    const indices = epochIndices(split, 'sampling', quota, 20, new SeededRandom(3), { recordOf, exponent: 0.5 });
    const fromA = indices.filter((i) => recordOf[i] === 'A' && labels[i] === 2);
    expect(new Set(fromA).size).toBe(fromA.length);
    expect(epochIndices(split, 'sampling', quota, 20, new SeededRandom(3), { recordOf, exponent: 0.5 })).toEqual(indices);
    expect(epochIndices(split, 'sampling', quota, 20, new SeededRandom(4), { recordOf, exponent: 0.5 })).not.toEqual(indices);
  });

  it('largestRemainder: integer shares that sum to the total, proportional to the weights', () => {
    expect(largestRemainder(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(largestRemainder(101, [Math.sqrt(90), Math.sqrt(10), 1])).toEqual([70, 24, 7]);
    expect(largestRemainder(7, [0, 2, 5])).toEqual([0, 2, 5]);
    expect(largestRemainder(5, [0, 0])).toEqual([0, 0]);
  });
});
