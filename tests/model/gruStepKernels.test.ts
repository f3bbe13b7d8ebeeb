/**
 * The fused GRU step kernels (src/model/gruStepKernels.ts): the rational tanh and sigmoid against Math's, and FastGru
 * with the kernels (no gradient tape) against FastGru without them (the op chain that training uses).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, trySetBackend } from '../../src/model/backend.js';
import { GRU_GATES, GRU_UPDATE, fastSigmoid, fastTanh, hasGruStepKernels, registerGruStepKernels } from '../../src/model/gruStepKernels.js';
import { FastGru } from '../../src/model/layers.js';
import { quietly } from '../../src/model/mshan.js';
import { maxAbsDiff } from '../helpers/arrays.js';

/** Runs `f` once with the fused kernels and once with them unregistered (the op chain). */
function withAndWithout<T>(f: () => T): [T, T] {
  const fused = f();
  tf.unregisterKernel(GRU_GATES, 'wasm');
  tf.unregisterKernel(GRU_UPDATE, 'wasm');
  try {
    expect(hasGruStepKernels()).toBe(false);
    return [fused, f()];
  } finally {
    registerGruStepKernels();
  }
}

describe('fused GRU step kernels', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    expect(hasGruStepKernels()).toBe(true);
  });

  it('fastTanh and fastSigmoid are within 3e-7 of Math.tanh and the exact sigmoid over ±30', () => {
    let tanhError = 0, sigmoidError = 0;
    for (let x = -30; x <= 30; x += 1e-3) {
      tanhError = Math.max(tanhError, Math.abs(fastTanh(x) - Math.tanh(x)));
      sigmoidError = Math.max(sigmoidError, Math.abs(fastSigmoid(x) - 1 / (1 + Math.exp(-x))));
    }
    expect(tanhError).toBeLessThan(3e-7);
    expect(sigmoidError).toBeLessThan(2e-7);
    expect(fastTanh(0)).toBe(0);
    expect(fastSigmoid(0)).toBe(0.5);
  });

  for (const [batch, steps, channels, units] of [[1, 30, 96, 48], [7, 5, 12, 4], [64, 30, 48, 32]]) {
    it(`FastGru with the kernels equals the op chain within 1e-5 (batch ${batch}, ${steps} steps, ${channels} -> ${units})`, () => {
      const layer = new FastGru({ units, seed: 9 });
      const x = tf.randomNormal([batch, steps, channels], 0, 1, 'float32', 41);
      quietly(() => layer.apply(x)); // builds the weights (silencing tfjs's orthogonal-initialiser warning)
      // Larger weights than the initialiser's, so that the gates saturate and the update moves the state far.
      layer.setWeights([tf.randomNormal([channels, 3 * units], 0, 0.5, 'float32', 42), tf.randomNormal([units, 3 * units], 0, 0.5, 'float32', 43), tf.randomNormal([3 * units], 0, 0.5, 'float32', 44)]);
      const [fused, chain] = withAndWithout(() => (layer.apply(x) as tf.Tensor).dataSync());
      expect(maxAbsDiff(fused, chain)).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(chain, Math.abs))).toBeGreaterThan(0.3); // a state worth comparing
    });
  }

  it('gradients through FastGru still work while the kernels are registered (the tape takes the op chain)', () => {
    const layer = new FastGru({ units: 8, seed: 3 });
    const x = tf.randomNormal([2, 6, 5], 0, 1, 'float32', 51);
    const grad = tf.grad((input: tf.Tensor) => (layer.apply(input) as tf.Tensor).square().sum())(x);
    const values = grad.dataSync();
    expect(values.length).toBe(2 * 6 * 5);
    expect(values.some((v) => v !== 0)).toBe(true);
  });

  it('does not leak tensors', () => {
    const layer = new FastGru({ units: 8, seed: 3 });
    const x = tf.randomNormal([3, 10, 5]);
    tf.dispose(layer.apply(x) as tf.Tensor);
    const before = tf.memory().numTensors;
    tf.dispose(layer.apply(x) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
