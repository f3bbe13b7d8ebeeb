/**
 * Model directories: save/load round trip, and a clear ModelError (ECG_ERR_MODEL) naming the file for every way a
 * model directory can be broken: missing, corrupt, truncated, or weights of another model.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { tf, trySetBackend } from '../../src/model/backend.js';
import { buildModel } from '../../src/model/models.js';
import { loadModel, saveModel } from '../../src/model/modelIo.js';

let root: string;

async function expectModelError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelError);
  expect((error as ModelError).code).toBe('ECG_ERR_MODEL');
  expect((error as ModelError).message).toMatch(message);
}

describe('model directories', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    root = await mkdtemp(join(tmpdir(), 'ecg-model-io-'));
    await saveModel(buildModel('mshan', 8, 1), join(root, 'mshan'));
    await saveModel(buildModel('mlp', 8, 1), join(root, 'mlp'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips weights and predictions exactly', async () => {
    const model = buildModel('mshan', 8, 1);
    const loaded = await loadModel(join(root, 'mshan'));
    const x = [tf.randomNormal([3, 360, 1], 0, 1, 'float32', 1), tf.randomNormal([3, 8], 0, 1, 'float32', 2)];
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('missing model.json', async () => {
    await expectModelError(loadModel(join(root, 'nowhere')), /nowhere\/model\.json: model not found/);
  });

  it('a corrupted weights file (one flipped byte) fails the SHA-256 check', async () => {
    const dir = join(root, 'corrupt');
    await saveModel(buildModel('mlp', 8, 1), dir);
    const bin = await readFile(join(dir, 'weights.bin'));
    bin[100] ^= 0xff;
    await writeFile(join(dir, 'weights.bin'), bin);
    await expectModelError(loadModel(dir), /corrupt\/weights\.bin: SHA-256 does not match model\.json/);
  });

  it('a truncated weights file fails the size check', async () => {
    const dir = join(root, 'truncated');
    await saveModel(buildModel('mlp', 8, 1), dir);
    const bin = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), bin.subarray(0, bin.length - 8));
    await expectModelError(loadModel(dir), /truncated\/weights\.bin: \d+ bytes, but model\.json describes/);
  });

  it("another model's weights file is refused", async () => {
    const dir = join(root, 'swapped');
    await saveModel(buildModel('mshan', 8, 1), dir);
    await copyFile(join(root, 'mlp', 'weights.bin'), join(dir, 'weights.bin'));
    await expectModelError(loadModel(dir), /swapped\/weights\.bin: \d+ bytes, but model\.json describes/);
  });

  it('weights that fit in size but not in shape (no checksum to catch it) are refused', async () => {
    const dir = join(root, 'reshaped');
    await saveModel(buildModel('mlp', 8, 1), dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    delete json.userDefinedMetadata;
    const spec = json.weightsManifest[0].weights[0];
    spec.shape = [spec.shape[1], spec.shape[0]]; // same byte count, transposed shape
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expectModelError(loadModel(dir), /reshaped: weights do not fit the architecture/);
  });

  it('a model.json that is not JSON', async () => {
    const dir = join(root, 'badjson');
    await saveModel(buildModel('mlp', 8, 1), dir);
    await writeFile(join(dir, 'model.json'), '{"modelTopology": ');
    await expectModelError(loadModel(dir), /badjson\/model\.json: not a valid model\.json/);
  });
});
