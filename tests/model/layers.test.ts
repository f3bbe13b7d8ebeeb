/**
 * The custom layers against tfjs's stock layers: FastLayerNormalization vs tf.layers.layerNormalization (1e-6),
 * FastGru vs tf.layers.gru with Keras's sigmoid recurrent activation (same weights), and a save/load round trip of
 * MSHAN, whose custom layers must deserialise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, trySetBackend } from '../../src/model/backend.js';
import { FastGru, FastLayerNormalization } from '../../src/model/layers.js';
import { buildMshan } from '../../src/model/mshan.js';
import { maxAbsDiff } from '../helpers/arrays.js';

describe('custom layers', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
  });

  it('FastLayerNormalization equals tf.layers.layerNormalization within 1e-6 (random gamma and beta)', () => {
    const x = tf.randomNormal([4, 30, 48], 0.3, 2, 'float32', 11);
    const stock = tf.layers.layerNormalization({ axis: -1 });
    const fast = new FastLayerNormalization();
    const y0 = stock.apply(x) as tf.Tensor;
    fast.apply(x);
    const gamma = tf.randomNormal([48], 1, 0.5, 'float32', 12);
    const beta = tf.randomNormal([48], 0, 0.5, 'float32', 13);
    stock.setWeights([gamma, beta]);
    fast.setWeights([gamma, beta]);
    const a = (stock.apply(x) as tf.Tensor).dataSync();
    const b = (fast.apply(x) as tf.Tensor).dataSync();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
    expect(maxAbsDiff(a, y0.dataSync())).toBeGreaterThan(1e-3); // the weights did change the output: the check has teeth
  });

  it('FastGru equals tf.layers.gru (sigmoid recurrent activation, same weights) within 1e-5, and its gradients too', () => {
    const x = tf.randomNormal([3, 30, 48], 0, 1, 'float32', 21);
    const stock = tf.layers.gru({ units: 32, recurrentActivation: 'sigmoid' });
    const fast = new FastGru({ units: 32, seed: 5 });
    stock.apply(x);
    fast.apply(x);
    const weights = [tf.randomNormal([48, 96], 0, 0.2, 'float32', 22), tf.randomNormal([32, 96], 0, 0.2, 'float32', 23), tf.randomNormal([96], 0, 0.2, 'float32', 24)];
    stock.setWeights(weights);
    fast.setWeights(weights);
    const a = (stock.apply(x) as tf.Tensor).dataSync();
    const b = (fast.apply(x) as tf.Tensor).dataSync();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    const gradOf = (layer: tf.layers.Layer) => tf.grad((input: tf.Tensor) => (layer.apply(input) as tf.Tensor).square().sum())(x).dataSync();
    expect(maxAbsDiff(gradOf(stock), gradOf(fast))).toBeLessThan(1e-4);
  });

  it('MSHAN saves and reloads (custom layers registered) with identical predictions', async () => {
    const model = buildMshan({ featureCount: 8, seed: 3 });
    const inputs = [tf.randomNormal([5, 360, 1], 0, 1, 'float32', 31), tf.randomNormal([5, 8], 0, 1, 'float32', 32)];
    const before = (model.predict(inputs) as tf.Tensor).dataSync();
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const after = (reloaded.predict(inputs) as tf.Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(reloaded.layers.map((l) => l.getClassName())).toEqual(expect.arrayContaining(['FastGru', 'FastLayerNormalization', 'TemporalAttention', 'ChannelAttention']));
  });

  it('MSHAN builds a second multi-scale stage only when asked: by default none, with the same weights as before', () => {
    const weights = (model: tf.LayersModel) => model.getWeights().map((t) => Array.from(t.dataSync()));
    const plain = buildMshan({ featureCount: 8, seed: 3, filters: 8 });
    expect(plain.layers.some((l) => l.name.startsWith('stage2'))).toBe(false);
    expect(weights(buildMshan({ featureCount: 8, seed: 3, filters: 8, secondStageKernels: [] }))).toEqual(weights(plain));

    const staged = buildMshan({ featureCount: 8, seed: 3, filters: 8, secondStageKernels: [3, 5, 7] });
    // One branch per kernel, filters / 2 each, over the pooled steps (30 steps of the 3 x 8 first-stage channels).
    const kernelShapes = staged.layers.filter((l) => l.name.startsWith('stage2')).map((l) => l.getWeights()[0]!.shape);
    expect(kernelShapes).toEqual([[3, 24, 4], [5, 24, 4], [7, 24, 4]]);
    expect(staged.getLayer('multiscale2').outputShape).toEqual([null, 30, 12]);
    expect(staged.getLayer('residual').outputShape).toEqual([null, 30, 12]);
    const probabilities = staged.predict([tf.randomNormal([2, 360, 1], 0, 1, 'float32', 41), tf.randomNormal([2, 8], 0, 1, 'float32', 42)]) as tf.Tensor;
    expect(probabilities.shape).toEqual([2, 5]);
    expect(Array.from(probabilities.sum(1).dataSync()).every((s) => Math.abs(s - 1) < 1e-5)).toBe(true);
    expect(staged.layers.some((l) => l.name === 'multiscale_skip')).toBe(false);

    // With the skip, the attention block gets the pooled first stage (24 channels) beside the second (12).
    const skipped = buildMshan({ featureCount: 8, seed: 3, filters: 8, secondStageKernels: [3, 5, 7], secondStageSkip: true });
    expect(skipped.getLayer('multiscale_skip').outputShape).toEqual([null, 30, 36]);
    expect(skipped.getLayer('residual').outputShape).toEqual([null, 30, 36]);
    // Without a second stage the skip changes nothing.
    expect(weights(buildMshan({ featureCount: 8, seed: 3, filters: 8, secondStageSkip: true }))).toEqual(weights(plain));
  });

  it('MSHAN is seeded: the same seed builds the same weights, another seed others', () => {
    const w = (seed: number) => buildMshan({ featureCount: 8, seed }).getWeights().map((t) => Array.from(t.dataSync()));
    expect(w(4)).toEqual(w(4));
    expect(w(4)).not.toEqual(w(5));
  });
});
