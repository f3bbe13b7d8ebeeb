/**
 * `ecg-monitor train` and `ecg-monitor bench classify` through main() with fake streams (tiny synthetic data, one
 * epoch: CI never trains a full model).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { syntheticDataset, writeDataset } from '../../src/model/dataset.js';
import { fakeIo as fakeIoWith } from '../helpers/fakeIo.js';

const fakeIo = (env: NodeJS.ProcessEnv = {}) => fakeIoWith(env);

let root: string;

describe('ecg-monitor train', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ecg-cli-train-'));
    await writeDataset(join(root, 'data'), syntheticDataset({ beatsPerRecord: 6, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 2 }));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('trains, reports progress on stderr and a JSON summary on stdout, and writes the model directory', async () => {
    const io = fakeIo();
    const out = join(root, 'mlp-inter');
    const code = await main(['train', '--model', 'mlp', '--protocol', 'inter', '--dataset', join(root, 'data'), '--out', out, '--epochs', '1', '--per-class', '20', '--backend', 'wasm'], io);
    expect(code, io.err()).toBe(0);
    expect(io.err()).toMatch(/epoch 1\/1 loss \d+\.\d+ \| val Se\/\+P % N /);
    expect(io.err()).toMatch(/beats\/min, .* ETA/);
    const summary = JSON.parse(io.out().trim());
    expect(summary).toMatchObject({ outDir: out, model: 'mlp', protocol: 'inter', backend: 'wasm', stoppedBy: 'epochs' });
    for (const f of ['model.json', 'weights.bin', 'manifest.json']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).training.balance).toBe('sampling');
  });

  it('--refit: a search run, then a fresh model on training + validation beats; the search folder is gone at the end', async () => {
    const io = fakeIo();
    const out = join(root, 'mlp-refit');
    const code = await main(['train', '--model', 'mlp', '--protocol', 'inter', '--dataset', join(root, 'data'), '--out', out, '--epochs', '2', '--per-class', '20', '--refit', '--backend', 'wasm'], io);
    expect(code, io.err()).toBe(0);
    expect(io.err()).toMatch(/refit: \d epochs on training \+ validation beats/);
    expect(io.err()).toMatch(/refit on training \+ validation, lr 1\.00e-3/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.training.refit).toMatchObject({ epochsRun: 2, learningRates: expect.any(Array) });
    expect(manifest.dataset.counts.validation).toBe(0);
    expect(existsSync(join(out, 'search'))).toBe(false);
  });

  it('--validation-fold k trains on another tenth of DS1 beats for validation; `eval folds` pools the folds\' validation results', async () => {
    const runFold = async (fold: number, extra: string[] = []) => {
      const io = fakeIo();
      const out = join(root, `mlp-fold${fold}${extra.length ? `-${extra.join('')}` : ''}`);
      const code = await main(['train', '--model', 'mlp', '--protocol', 'inter', '--dataset', join(root, 'data'), '--out', out, '--epochs', '1', '--per-class', '20', '--validation-fold', String(fold), ...extra, '--backend', 'wasm'], io);
      expect(code, io.err()).toBe(0);
      return { out, manifest: JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) };
    };
    const first = join(root, 'mlp-inter'); // fold 1, from the first test
    const [second, third] = [await runFold(2), await runFold(3)];
    const firstManifest = JSON.parse(readFileSync(join(first, 'manifest.json'), 'utf8'));
    expect(firstManifest.training.validationFold).toBe(1);
    expect(second.manifest.training.validationFold).toBe(2);
    expect(second.manifest.training.splitDescription).toMatch(/validation fold 2 of 10/);
    expect(second.manifest.dataset.counts.test).toBe(firstManifest.dataset.counts.test);

    const io = fakeIo();
    const json = join(root, 'folds.json');
    expect(await main(['eval', 'folds', '--model', [third.out, first, second.out].join(','), '--json', json], io), io.err()).toBe(0);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const runs = [firstManifest, second.manifest, third.manifest];
    expect(summary.runs.map((r: { fold: number }) => r.fold)).toEqual([1, 2, 3]);
    expect(summary.pooled.count).toBe(runs.reduce((a, m) => a + m.metrics.validation.count, 0));
    const summed = runs[0].metrics.validation.confusion.map((row: number[], t: number) => row.map((_: number, p: number) => runs.reduce((a, m) => a + m.metrics.validation.confusion[t][p], 0)));
    expect(summary.pooled.confusion).toEqual(summed);
    expect(io.out()).toMatch(/pooled over 3 folds: \d+ beats, accuracy \d+\.\d\d %, macro F1 \d\.\d{4}/);
    // Epoch by epoch, from each run's history (one epoch each here), and the length chosen on the other folds.
    expect(summary.byEpoch).toEqual([{ epoch: 1, macroF1: runs.map((m) => m.training.history[0].macroF1), mean: expect.any(Number) }]);
    expect(summary.epochsChosenOnOtherFolds.map((c: { epochs: number }) => c.epochs)).toEqual([1, 1, 1]);
    expect(io.out()).toContain('epochs chosen on the other folds: fold 1 1 (');

    const sameFold = fakeIo();
    expect(await main(['eval', 'folds', '--model', `${first},${join(root, 'mlp-refit')}`], sameFold)).toBe(1);
    expect(sameFold.err()).toMatch(/both validated on fold 1.*ECG_ERR_MODEL/);
    const other = await runFold(4, ['--seed', '2']);
    const otherFlags = fakeIo();
    expect(await main(['eval', 'folds', '--model', `${first},${other.out}`], otherFlags)).toBe(1);
    expect(otherFlags.err()).toMatch(/trained with other flags/);
    const byRecords = await runFold(5, ['--validation', 'records']);
    expect(byRecords.manifest.training).toMatchObject({ interValidation: 'records', validationFold: 5 });
    expect(byRecords.manifest.training.splitDescription).toMatch(/patient fold 5 of 5/);
    const mixed = fakeIo();
    expect(await main(['eval', 'folds', '--model', `${first},${byRecords.out}`], mixed)).toBe(1);
    expect(mixed.err()).toMatch(/trained with other flags/);
    // Validation on the fixed records 118, 220, 223 is no fold: its manifest says so and eval folds refuses it.
    const fixedIo = fakeIo();
    const fixedOut = join(root, 'mlp-fixed-records');
    expect(await main(['train', '--model', 'mlp', '--protocol', 'inter', '--dataset', join(root, 'data'), '--out', fixedOut, '--epochs', '1', '--per-class', '20', '--validation', 'records', '--backend', 'wasm'], fixedIo), fixedIo.err()).toBe(0);
    expect(JSON.parse(readFileSync(join(fixedOut, 'manifest.json'), 'utf8')).training.validationFold).toBeNull();
    const notAFold = fakeIo();
    expect(await main(['eval', 'folds', '--model', `${byRecords.out},${fixedOut}`], notAFold)).toBe(1);
    expect(notAFold.err()).toMatch(/fixed held-out records, not on a fold/);
    const badFold = fakeIo();
    expect(await main(['train', '--model', 'mlp', '--dataset', join(root, 'data'), '--out', join(root, 'x'), '--validation-fold', '11', '--backend', 'wasm'], badFold)).toBe(2);
    expect(badFold.err()).toMatch(/validationFold=11 must be an integer in 1\.\.10/);
  });

  it('exits 2 on a bad --model, 1 with ECG_ERR_MODEL on a missing dataset', async () => {
    const bad = fakeIo();
    expect(await main(['train', '--model', 'resnet'], bad)).toBe(2);
    expect(bad.err()).toMatch(/option '--model <name>' argument 'resnet' is invalid\. Allowed choices are mshan, mshan-norr, cnn, mlp\./);
    const stretchAlone = fakeIo();
    expect(await main(['train', '--augment-stretch', '0.1'], stretchAlone)).toBe(2);
    expect(stretchAlone.err()).toMatch(/--augment-stretch needs --augment/);
    const skipAlone = fakeIo();
    expect(await main(['train', '--second-stage-skip'], skipAlone)).toBe(2);
    expect(skipAlone.err()).toMatch(/--second-stage-skip needs --second-stage/);
    const stretchTooFar = fakeIo();
    expect(await main(['train', '--augment', '--augment-stretch', '0.7'], stretchTooFar)).toBe(2);
    expect(stretchTooFar.err()).toMatch(/--augment-stretch 0\.7 must be below 0\.5/);
    const badExponent = fakeIo();
    expect(await main(['train', '--record-balance', '2'], badExponent)).toBe(2);
    expect(badExponent.err()).toMatch(/--record-balance <exponent>' argument '2' is invalid\. must be a number from 0 to 1/);
    const missing = fakeIo();
    expect(await main(['train', '--dataset', join(root, 'nothing'), '--out', join(root, 'x'), '--backend', 'wasm'], missing)).toBe(1);
    expect(missing.err()).toMatch(/nothing\/manifest\.json: no dataset here .*\[ECG_ERR_MODEL\]/);
  });
});

describe('ecg-monitor bench classify', () => {
  it('prints a table and writes JSON with beatsPerSecondBatch64 and singleBeatP99Ms at the top level', async () => {
    const io = fakeIo();
    const dir = await mkdtemp(join(tmpdir(), 'ecg-cli-bench-'));
    const json = join(dir, 'bench.json');
    expect(await main(['bench', 'classify', '--backends', 'wasm', '--seconds', '0.05', '--no-train', '--json', json], io), io.err()).toBe(0);
    expect(io.out()).toMatch(/^wasm\s+\d+\s+\d+/m);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.defaultBackend).toBe('wasm');
    expect(result.beatsPerSecondBatch64).toBeGreaterThan(0);
    expect(result.singleBeatP99Ms).toBeGreaterThan(0);
    expect(result.featuresMicrosPerBeat).toBeGreaterThan(0);
    expect(result.rulesMicrosPerBeat).toBeGreaterThan(0);
    expect(io.out()).toMatch(/features \(template \+ RR\) per beat: \d+ us/);
    expect(result.backends.map((b: { backend: string }) => b.backend)).toEqual(['wasm']);
    await rm(dir, { recursive: true, force: true });
  });
});
