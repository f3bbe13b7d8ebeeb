import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelDir } from '../../src/config.js';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { buildDataset } from '../../src/dataset/buildDataset.js';
import { scoreBeatClasses } from '../../src/eval/beats.js';
import { evaluateBeats, type BeatsEvaluation } from '../../src/eval/beatsEvaluation.js';
import { confusionMatrixSvg } from '../../src/eval/confusionPlot.js';
import { trySetBackend } from '../../src/model/backend.js';
import { loadDataset, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { argmaxRows, classifyBatch, loadClassifier, type Classifier } from '../../src/model/predict.js';
import { trainModel } from '../../src/model/train.js';
import { BEAT_CLASSES, type BeatClass } from '../../src/types.js';
import { readAnnotations } from '../../src/wfdb/annotations.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

/**
 * The evaluation's two scorings must agree where they overlap: at reference positions every beat is matched, so
 * EC57's matrix (bxb matching, classes from annotation codes via aamiClassMap) must equal the per-beat confusion
 * (classes from the dataset's labels via aamiClassOf), and the written .cls files must score the same when read back.
 * The classifier is a tiny model trained for one epoch on synthetic beats: its answers are poor but varied.
 */
describe.skipIf(skipWithoutMitdb())('evaluateBeats (MIT-BIH 100, 232 and a tiny model)', () => {
  let work: string;
  let classifier: Classifier;
  let dataset: BeatDataset;
  const records = ['100', '232'];
  const noRules = { afGate: false, templateGate: false, timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false } as const;
  const V = BEAT_CLASSES.indexOf('V');
  const columnOf = (e: BeatsEvaluation, c: number) => e.classification!.confusion.reduce((sum, row) => sum + row[c], 0);
  /** The tiny model again, its output for class `c` raised by `logit` (a bias on the last layer), to make it call c more. */
  const leaningTo = async (c: number, logit: number): Promise<Classifier> => {
    const copy = await loadClassifier(join(work, 'model'));
    const head = copy.model.layers[copy.model.layers.length - 1];
    const [kernel, bias] = head.getWeights();
    head.setWeights([kernel, tf.tidy(() => bias.add(tf.oneHot(c, BEAT_CLASSES.length).mul(logit)))]);
    return copy;
  };

  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    work = await mkdtemp(join(tmpdir(), 'ecg-evalbeats-'));
    await writeDataset(join(work, 'synthetic'), syntheticDataset({ beatsPerRecord: 8, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 3 }));
    await trainModel({ model: 'cnn', protocol: 'inter', datasetDir: join(work, 'synthetic'), outDir: join(work, 'model'), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6 });
    classifier = await loadClassifier(join(work, 'model'));
    const db = join(work, 'db');
    for (const r of records) for (const ext of ['hea', 'dat', 'atr']) await cp(join(MITDB_DIR, `${r}.${ext}`), join(db, `${r}.${ext}`));
    await buildDataset({ dir: db, records, out: join(work, 'beats') });
    dataset = await loadDataset(join(work, 'beats'));
  });
  afterAll(async () => {
    classifier?.model.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('whole records: EC57 matrix equals the per-beat confusion, and the .cls files score the same when read back', async () => {
    const out = join(work, 'cls');
    const e = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test: { kind: 'records', records }, outDir: out });
    expect(e.beats).toBe(dataset.count);
    const gross = e.ec57!.aami.gross;
    expect(gross.qrs.sePercent).toBe(100);
    expect(gross.qrs.ppPercent).toBe(100);
    const ec57Confusion = BEAT_CLASSES.map((r) => BEAT_CLASSES.map((c) => gross.matrix[r][c]));
    expect(ec57Confusion).toEqual(e.classification!.confusion);
    expect(new Set(e.classification!.confusion.flatMap((row, r) => row.map((n, c) => (n > 0 ? c : -1)).filter((c) => c >= 0))).size).toBeGreaterThan(1);
    // Whole records: intervals over patients of the literature map's gross figures, around those figures.
    const b = e.ec57!.bootstrap!;
    expect(b.records).toBe(records.length);
    for (const [beat, stat] of [['veb', 'se'], ['veb', 'pp'], ['sveb', 'se'], ['sveb', 'pp']] as const) {
      const point = gross[beat][stat === 'se' ? 'sePercent' : 'ppPercent'];
      const interval = b[beat][stat];
      if (point === undefined || interval === undefined) continue;
      expect(interval.low).toBeLessThanOrEqual(point + 1e-9);
      expect(interval.high).toBeGreaterThanOrEqual(point - 1e-9);
    }
    expect(b.sveb.se ?? b.veb.se).toBeDefined();
    // Each record's matrix, in record order, for paired comparisons: they sum to the gross matrix.
    expect(e.ec57!.perRecord.map((r) => r.record)).toEqual(records);
    expect(BEAT_CLASSES.map((r) => BEAT_CLASSES.map((c) => e.ec57!.perRecord.reduce((n, p) => n + p.matrix[r][c], 0)))).toEqual(ec57Confusion);

    for (const [k, record] of records.entries()) {
      const cls = await readAnnotations(join(out, `${record}.cls`));
      expect(cls).toHaveLength(dataset.record.filter((r) => r === record).length);
      expect(new Set(cls.map((a) => a.symbol)).size).toBeGreaterThan(0);
      for (const a of cls) expect(['N', 'A', 'V', 'F', 'Q']).toContain(a.symbol);
      const reference = await readAnnotations(join(work, 'db', `${record}.atr`));
      const rescored = scoreBeatClasses(reference, cls, { fsHz: 360, endSample: 650000, classMap: 'bxb' });
      expect(e.ec57!.perRecordBxbLines[k].startsWith(record.padStart(4))).toBe(true);
      expect(rescored.veb.tp).toBeGreaterThanOrEqual(0);
      expect(e.ec57!.bxb.gross.matrix.V.V).toBeGreaterThanOrEqual(rescored.veb.tp);
    }
  });

  it('feeds the model its own features out of the dataset\'s wider rows (8 RR of 14)', async () => {
    expect(dataset.featureCount).toBeGreaterThan(classifier.manifest.input.featureNames.length);
    // Without the rules after the model, so that the classes are the model's own.
    const e = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test: { kind: 'records', records }, ...noRules });
    const names = classifier.manifest.input.featureNames;
    const rows = Float32Array.from({ length: dataset.count * names.length }, (_, k) =>
      dataset.features[Math.floor(k / names.length) * dataset.featureCount + dataset.featureNames.indexOf(names[k % names.length])]);
    const predicted = argmaxRows(classifyBatch(classifier, dataset.windows, rows), 5);
    const confusion = BEAT_CLASSES.map(() => BEAT_CLASSES.map(() => 0));
    predicted.forEach((p, i) => { if (dataset.labels[i] < 5) confusion[dataset.labels[i]][p]++; });
    expect(e.classification!.confusion).toEqual(confusion);
    // The same dataset with its columns in reverse order scores the same: columns are found by name, not position.
    const F = dataset.featureCount;
    const reversed = { ...dataset, featureNames: [...dataset.featureNames].reverse(), features: dataset.features.map((_, k) => dataset.features[k - (k % F) + F - 1 - (k % F)]) };
    const r = await evaluateBeats({ classifier, dataset: reversed, dir: join(work, 'db'), test: { kind: 'records', records }, ...noRules });
    expect(r.classification!.confusion).toEqual(confusion);
  });

  it('an ensemble takes the class of the mean probabilities, each model fed its own features; mismatched classes are refused', async () => {
    // A second tiny model with other features (RR names in another order, plus no template) and another seed.
    const features = ['nextRrS', 'previousRrS', 'previousOverLocal'];
    await trainModel({ model: 'mlp', protocol: 'inter', datasetDir: join(work, 'synthetic'), outDir: join(work, 'model-b'), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6, seed: 7, features });
    const second = await loadClassifier(join(work, 'model-b'));
    const test = { kind: 'records', records } as const;
    const e = await evaluateBeats({ classifier: [classifier, second], dataset, dir: join(work, 'db'), test, ...noRules });
    const rowsFor = (c: Classifier) => {
      const names = c.manifest.input.featureNames;
      return Float32Array.from({ length: dataset.count * names.length }, (_, k) =>
        dataset.features[Math.floor(k / names.length) * dataset.featureCount + dataset.featureNames.indexOf(names[k % names.length])]);
    };
    const a = classifyBatch(classifier, dataset.windows, rowsFor(classifier));
    const b = classifyBatch(second, dataset.windows, rowsFor(second));
    const predicted = argmaxRows(a.map((p, j) => p / 2 + b[j] / 2), 5);
    const confusion = BEAT_CLASSES.map(() => BEAT_CLASSES.map(() => 0));
    predicted.forEach((p, i) => { if (dataset.labels[i] < 5) confusion[dataset.labels[i]][p]++; });
    expect(e.classification!.confusion).toEqual(confusion);
    expect(e.model).toBe('model + model-b');
    expect(e.notes.join()).toMatch(/ensemble of 2 models/);
    // The ensemble differs from each member somewhere, or the test would not tell them apart.
    const alone = [classifier, second].map((c) => argmaxRows(c === classifier ? a : b, 5));
    expect(alone.every((p) => p.some((x, i) => x !== predicted[i]))).toBe(true);

    const seedClasses = { ...second, manifest: { ...second.manifest, classes: ['N', 'L', 'R', 'A', 'V'] } };
    await expect(evaluateBeats({ classifier: [classifier, seedClasses], dataset, dir: join(work, 'db'), test })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION' });
    const otherSplit = { ...second, manifest: { ...second.manifest, protocol: 'intra' } };
    await expect(evaluateBeats({ classifier: [classifier, otherSplit], dataset, dir: join(work, 'db'), test })).rejects.toMatchObject({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/must share protocol and split/) });
    second.model.dispose();
  });

  it('intra protocol: EC57 on the test beats only, so every test beat is matched and nothing else is missed', async () => {
    const e = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test: { kind: 'protocol', protocol: 'intra' } });
    const gross = e.ec57!.aami.gross;
    expect(gross.qrs.sePercent).toBe(100);
    expect(gross.qrs.tp).toBe(e.beats);
    expect(e.beats).toBeLessThan(dataset.count * 0.25);
    expect(e.notes.join()).toMatch(/restricted to the test beats/);
  });

  it('runs the live rhythm stage on whole records: only S calls in detected AF change, and --no-af-gate keeps them', async () => {
    // Record 221 is atrial fibrillation from start to end.
    for (const ext of ['hea', 'dat', 'atr']) await cp(join(MITDB_DIR, `221.${ext}`), join(work, 'db', `221.${ext}`));
    await buildDataset({ dir: join(work, 'db'), records: ['221'], out: join(work, 'beats-221') });
    const af = await loadDataset(join(work, 'beats-221'));
    const test = { kind: 'records', records: ['221'] } as const;
    const gated = await evaluateBeats({ classifier, dataset: af, dir: join(work, 'db'), test, ...noRules, afGate: true });
    const plain = await evaluateBeats({ classifier, dataset: af, dir: join(work, 'db'), test, ...noRules });
    const changed = gated.ruleChanges!.afGate!;
    expect(gated.notes.join('\n')).toContain(`: ${changed} S calls in detected atrial fibrillation`);
    expect(plain.notes.join('\n')).not.toMatch(/gate/);
    expect(plain.ruleChanges).toBeUndefined();
    const column = (e: typeof plain, c: number) => e.classification!.confusion.reduce((sum, row) => sum + row[c], 0);
    const S = BEAT_CLASSES.indexOf('S');
    expect(column(plain, S)).toBeGreaterThan(0);
    expect(changed).toBeGreaterThan(0);
    // The S column loses exactly the gated beats; every other column only gains.
    expect(column(plain, S) - column(gated, S)).toBe(changed);
    for (let c = 0; c < BEAT_CLASSES.length; c++) if (c !== S) expect(column(gated, c)).toBeGreaterThanOrEqual(column(plain, c));
    // A sinus-rhythm record keeps its S calls.
    const sinus = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test: { kind: 'records', records: ['100'] } });
    expect(sinus.ruleChanges!.afGate).toBe(0);
  });

  it('runs the template gate after it: only V calls change, as the operator changes them on the same beats', async () => {
    const test = { kind: 'records', records } as const;
    const gated = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test, ...noRules, templateGate: true });
    const plain = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test, ...noRules });
    const changed = gated.ruleChanges!.templateGate!;
    expect(changed).toBeGreaterThan(0);
    expect(columnOf(plain, V) - columnOf(gated, V)).toBe(changed);
    for (let c = 0; c < BEAT_CLASSES.length; c++) if (c !== V) expect(columnOf(gated, c)).toBeGreaterThanOrEqual(columnOf(plain, c));
    expect(gated.notes.join('\n')).toContain(`template gate (gateVebByTemplate, as the live monitor): ${changed} V calls`);
  });

  it('runs the timing gate with the RR intervals the dataset stored: only on-time V calls change', async () => {
    // The tiny model calls few beats V; the same model with its V output raised calls many.
    const vHeavy = await leaningTo(V, 3);
    const test = { kind: 'records', records } as const;
    const gatedOut = join(work, 'timing-gated');
    const plainOut = join(work, 'timing-plain');
    const gated = await evaluateBeats({ classifier: vHeavy, dataset, dir: join(work, 'db'), test, ...noRules, timingGate: true, outDir: gatedOut });
    const plain = await evaluateBeats({ classifier: vHeavy, dataset, dir: join(work, 'db'), test, ...noRules, outDir: plainOut });
    vHeavy.model.dispose();
    const changed = gated.ruleChanges!.timingGate!;
    expect(changed).toBeGreaterThan(0);
    expect(columnOf(plain, V) - columnOf(gated, V)).toBe(changed);
    expect(gated.notes.join('\n')).toContain(`timing gate (gateVebByTiming, as the live monitor): ${changed} V calls`);
    // Every beat whose class changed was a V call whose stored RR ratios are within 5 % of the local mean.
    const column = (name: string) => dataset.featureNames.indexOf(name);
    let seen = 0;
    for (const record of records) {
      const [before, after] = await Promise.all([readAnnotations(join(plainOut, `${record}.cls`)), readAnnotations(join(gatedOut, `${record}.cls`))]);
      const beats = dataset.record.flatMap((r, i) => (r === record ? [i] : [])).sort((a, b) => dataset.sample[a] - dataset.sample[b]);
      before.forEach((a, k) => {
        if (a.symbol === after[k].symbol) return;
        const row = beats[k] * dataset.featureCount;
        expect(a.symbol).toBe('V');
        expect(dataset.sample[beats[k]]).toBe(a.sample);
        expect(Math.abs(dataset.features[row + column('previousOverLocal')] - 1)).toBeLessThanOrEqual(0.05 + 1e-6);
        expect(Math.abs(dataset.features[row + column('nextOverLocal')] - 1)).toBeLessThanOrEqual(0.05 + 1e-6);
        seen++;
      });
    }
    expect(seen).toBe(changed);
  });

  it('runs the atrial run gate last: only N calls change, each to S, on the shipped model\'s calls in record 232', async () => {
    // Record 232: runs of atrial premature beats amid sinus bradycardia. The tiny model does not call its sinus beats
    // N, so there is no sinus rhythm to compare with; the shipped model does, and calls some beats inside the runs N.
    const shipped = await loadClassifier(resolveModelDir('mshan-inter'));
    const test = { kind: 'records', records: ['232'] } as const;
    const gated = await evaluateBeats({ classifier: shipped, dataset, dir: join(work, 'db'), test, ...noRules, atrialRunGate: true });
    const plain = await evaluateBeats({ classifier: shipped, dataset, dir: join(work, 'db'), test, ...noRules });
    shipped.model.dispose();
    const changed = gated.ruleChanges!.atrialRunGate!;
    const [N, S] = ['N', 'S'].map((c) => BEAT_CLASSES.indexOf(c as BeatClass));
    expect(changed).toBeGreaterThan(0);
    expect(columnOf(plain, N) - columnOf(gated, N)).toBe(changed);
    expect(columnOf(gated, S) - columnOf(plain, S)).toBe(changed);
    // The beats it moves are APCs inside the runs: S gains more true S beats than it loses N beats.
    const trueS = (e: BeatsEvaluation) => e.classification!.confusion[S][S];
    expect(trueS(gated) - trueS(plain)).toBeGreaterThan(changed / 2);
    expect(gated.notes.join('\n')).toContain(`atrial run gate (gateNormalInAtrialRun, as the live monitor): ${changed} N calls`);
  });

  it('runs the P-wave gate: only S calls change', async () => {
    // Record 100 is sinus rhythm: S calls there carry the usual P wave. The tiny model calls no beat of it N, so it
    // would have no usual N beat; with its N output raised it calls some N, some S.
    const leaning = await leaningTo(BEAT_CLASSES.indexOf('N'), 0.3);
    const test = { kind: 'records', records: ['100'] } as const;
    const gated = await evaluateBeats({ classifier: leaning, dataset, dir: join(work, 'db'), test, ...noRules, pWaveGate: true });
    const plain = await evaluateBeats({ classifier: leaning, dataset, dir: join(work, 'db'), test, ...noRules });
    leaning.model.dispose();
    const changed = gated.ruleChanges!.pWaveGate!;
    const S = BEAT_CLASSES.indexOf('S');
    expect(changed).toBeGreaterThan(0);
    expect(columnOf(plain, S) - columnOf(gated, S)).toBe(changed);
    for (let c = 0; c < BEAT_CLASSES.length; c++) if (c !== S) expect(columnOf(gated, c)).toBeGreaterThanOrEqual(columnOf(plain, c));
    expect(gated.notes.join('\n')).toContain(`P-wave gate (gateSvebByPWave, as the live monitor): ${changed} S calls`);
  });

  it('runs the QRS gate: only S calls change', async () => {
    // The tiny model calls beats of 232 (mostly atrial premature) S; whichever of them look unlike the usual beat lose S.
    const test = { kind: 'records', records } as const;
    const gated = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test, ...noRules, qrsGate: true });
    const plain = await evaluateBeats({ classifier, dataset, dir: join(work, 'db'), test, ...noRules });
    const changed = gated.ruleChanges!.qrsGate!;
    const S = BEAT_CLASSES.indexOf('S');
    expect(changed).toBeGreaterThan(0);
    expect(columnOf(plain, S) - columnOf(gated, S)).toBe(changed);
    for (let c = 0; c < BEAT_CLASSES.length; c++) if (c !== S) expect(columnOf(gated, c)).toBeGreaterThanOrEqual(columnOf(plain, c));
    expect(gated.notes.join('\n')).toContain(`QRS gate (gateSvebByQrs, as the live monitor): ${changed} S calls`);
  });

  it('draws the confusion matrix as SVG', async () => {
    const svg = await confusionMatrixSvg([[5, 1], [0, 3]], ['N', 'V'], 'test');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('predicted class');
    expect(svg).toContain('>5<');
  });
});
