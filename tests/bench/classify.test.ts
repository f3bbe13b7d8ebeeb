/**
 * `ecg-monitor bench classify`: which backends it measures, what it says about those it cannot, and which backend its
 * top-level figures belong to. Tiny budgets (--seconds 0.05, --no-train, wasm where a run is needed); timings are
 * never asserted, only that figures exist where they should and are absent where they should be.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchClassify, describeBenchModel, parseBackendList } from '../../src/cli/commands/benchClassify.js';
import { main } from '../../src/cli/main.js';
import { defaultModelDir } from '../../src/config.js';
import { fakeIo } from '../helpers/fakeIo.js';
import { useTemporaryFolder } from '../helpers/temporaryFolder.js';

// A variable specifier: the optional package has no types here.
const tfjsNodeSpecifier = '@tensorflow/tfjs-node';
const tfjsNodeInstalled = await import(tfjsNodeSpecifier).then(() => true, () => false);
const quick = ['--seconds', '0.05', '--no-train'];

let dir: string;
useTemporaryFolder('ecg-bench-classify-', (path) => (dir = path));

describe('parseBackendList', () => {
  it('keeps known names once each, in the order tensorflow, wasm, cpu', () => {
    expect(parseBackendList('cpu, wasm,cpu')).toEqual(['wasm', 'cpu']);
  });

  it('refuses an unknown name or an empty list with ECG_ERR_BAD_OPTION, listing the valid names', () => {
    expect(() => parseBackendList('wasm,bogus')).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION', message: expect.stringMatching(/"bogus".*valid: tensorflow, wasm, cpu/) }));
    expect(() => parseBackendList(' , ')).toThrow(expect.objectContaining({ code: 'ECG_ERR_BAD_OPTION' }));
  });
});

describe('ecg-monitor bench classify --backends', () => {
  it('exits 2 with ECG_ERR_BAD_OPTION on an unknown backend, and writes no JSON', async () => {
    const io = fakeIo();
    const json = join(dir, 'bogus.json');
    expect(await main(['bench', 'classify', '--backends', 'bogus', ...quick, '--json', json], io)).toBe(2);
    expect(io.err()).toMatch(/"bogus".*valid: tensorflow, wasm, cpu.*\[ECG_ERR_BAD_OPTION\]/);
    expect(io.out()).toBe('');
    expect(existsSync(json)).toBe(false);
  });

  // Both run on every machine: without tfjs-node (as here) they check what is said of the missing backend, with it
  // that the backend is measured like the others.
  it('--backends tensorflow: without tfjs-node, exits 1 with ECG_ERR_MODEL saying why (no requested backend can run); with it, measures it', async () => {
    const io = fakeIo();
    const json = join(dir, 'tensorflow.json');
    const code = await main(['bench', 'classify', '--backends', 'tensorflow', ...quick, '--json', json], io);
    if (tfjsNodeInstalled) {
      expect(code, io.err()).toBe(0);
      expect(JSON.parse(readFileSync(json, 'utf8')).backends.map((b: { backend: string }) => b.backend)).toEqual(['tensorflow']);
      return;
    }
    expect(code).toBe(1);
    expect(io.err()).toMatch(/none of the requested backends can run here \(tensorflow: the optional package @tensorflow\/tfjs-node is not installed.*\[ECG_ERR_MODEL\]/);
    expect(io.out()).toBe('');
    expect(existsSync(json)).toBe(false);
  });

  it('--backends tensorflow,wasm: skips a backend that cannot run, lists it with its reason, and measures the others', async () => {
    const io = fakeIo();
    const json = join(dir, 'tensorflow-wasm.json');
    expect(await main(['bench', 'classify', '--backends', 'tensorflow,wasm', ...quick, '--json', json], io), io.err()).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(io.out()).toMatch(/^wasm\s+\d+\s+\d+/m);
    if (tfjsNodeInstalled) {
      expect(result.backends.map((b: { backend: string }) => b.backend)).toEqual(['tensorflow', 'wasm']);
      expect(result.skippedBackends).toEqual([]);
      return;
    }
    expect(result.backends.map((b: { backend: string }) => b.backend)).toEqual(['wasm']);
    expect(result.skippedBackends).toEqual([{ backend: 'tensorflow', reason: expect.stringMatching(/@tensorflow\/tfjs-node is not installed/) }]);
    expect(io.out()).toMatch(/^tensorflow\s+skipped: the optional package @tensorflow\/tfjs-node is not installed/m);
  });
});

describe('bench classify: the top level names the backend its figures come from', () => {
  it('gives the default backend\'s figures under figuresBackend when it was measured', async () => {
    const r = await benchClassify({ backends: 'wasm', seconds: 0.05, train: false }, fakeIo());
    expect(r.defaultBackend).toBe('wasm');
    expect(r.figuresBackend).toBe('wasm');
    expect(r.beatsPerSecondBatch64).toBe(r.backends[0].beatsPerSecondBatch64);
    expect(r.singleBeatP99Ms).toBe(r.backends[0].singleBeatP99Ms);
    expect(r.figuresNote).toBeUndefined();
  });

  it('leaves the top-level figures out, with a note, when --backends leaves the default backend out', async () => {
    // ECG_TF_BACKEND=cpu makes cpu the default; measuring wasm alone keeps the run short.
    const io = fakeIo({ ECG_TF_BACKEND: 'cpu' });
    const r = await benchClassify({ backends: 'wasm', seconds: 0.05, train: false }, io);
    expect(r.defaultBackend).toBe('cpu');
    expect(r.backends.map((b) => b.backend)).toEqual(['wasm']);
    expect(r.figuresBackend).toBeNull();
    for (const key of ['beatsPerSecondBatch64', 'singleBeatP99Ms', 'singleBeatP50Ms', 'beatsPerSecondBatch1', 'trainingBeatsPerMinute']) {
      expect(r, key).not.toHaveProperty(key);
    }
    expect(r.figuresNote).toMatch(/default backend cpu was not among --backends wasm/);
    const json = join(dir, 'cpu-default.json');
    const cli = fakeIo({ ECG_TF_BACKEND: 'cpu' });
    expect(await main(['bench', 'classify', '--backends', 'wasm', ...quick, '--json', json], cli), cli.err()).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ defaultBackend: 'cpu', figuresBackend: null });
    expect(cli.out()).toMatch(/default backend cpu \(not measured: not in --backends\)/);
  });
});

describe('bench classify: the model it reports', () => {
  it('describes a model directory from its files, with the parameter count the loaded model has', async () => {
    const { initBackend } = await import('../../src/model/backend.js');
    const { loadClassifier } = await import('../../src/model/predict.js');
    await initBackend('wasm');
    const info = await describeBenchModel(defaultModelDir());
    const loaded = await loadClassifier(defaultModelDir());
    expect(info).toEqual({ dir: defaultModelDir(), name: loaded.manifest.name, parameters: loaded.model.countParams() });
    expect(info.parameters).toBeGreaterThan(0);
    loaded.model.dispose();
    const untrained = await describeBenchModel(undefined);
    expect(untrained).toMatchObject({ dir: null, name: 'mshan (untrained)' });
    expect(untrained.parameters).toBeGreaterThan(0);
  });

  it('names models/mshan-inter (not an untrained model of 0 parameters) when --model is not given', async () => {
    const r = await benchClassify({ backends: 'wasm', seconds: 0.05, train: false }, fakeIo());
    expect(r.model).toEqual(await describeBenchModel(defaultModelDir()));
    expect(r.model.name).toBe('mshan-inter');
  });
});
