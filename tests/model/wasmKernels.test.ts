/**
 * The wasm kernels of src/model/wasmKernels.ts against the cpu backend's (the reference implementation of tfjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, trySetBackend } from '../../src/model/backend.js';
import { maxAbsDiff } from '../helpers/arrays.js';

/** Runs `f` on cpu and on wasm with the same inputs (made from a seed), returns both flattened outputs. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[number[][], number[][]]> {
  const run = async (name: 'cpu' | 'wasm') => {
    expect(await trySetBackend(name)).toBe(true);
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => Array.from(await t.data())));
    tf.dispose(list);
    return values;
  };
  return [await run('cpu'), await run('wasm')];
}

describe('wasm training kernels', () => {
  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
  });

  const convCases = [
    { name: 'stride 1 same', batch: 3, length: 40, inC: 1, outC: 8, k: 7, stride: 1, pad: 'same' as const },
    { name: 'stride 3 same', batch: 2, length: 360, inC: 1, outC: 16, k: 15, stride: 3, pad: 'same' as const },
    { name: 'stride 2 valid, many channels', batch: 4, length: 33, inC: 5, outC: 6, k: 3, stride: 2, pad: 'valid' as const },
  ];
  for (const c of convCases) {
    it(`Conv2DBackpropFilter matches cpu (${c.name})`, async () => {
      const make = () => {
        const x = tf.randomNormal([c.batch, c.length, c.inC], 0, 1, 'float32', 1) as tf.Tensor3D;
        const w = tf.randomNormal([c.k, c.inC, c.outC], 0, 1, 'float32', 2) as tf.Tensor3D;
        const dy = tf.randomNormal(tf.conv1d(x, w, c.stride, c.pad).shape, 0, 1, 'float32', 3);
        // d/dw of sum(conv(x, w) * dy) is the weight gradient for upstream gradient dy.
        return tf.grad((ww: tf.Tensor) => tf.conv1d(x, ww as tf.Tensor3D, c.stride, c.pad).mul(dy).sum())(w);
      };
      const [[cpu], [wasm]] = await onBoth(make);
      const scale = Math.max(...cpu.map(Math.abs));
      expect(maxAbsDiff(cpu, wasm) / scale).toBeLessThan(1e-5);
    });
  }

  for (const [pool, stride, pad] of [[4, 4, 'valid'], [3, 2, 'same'], [2, 1, 'valid']] as const) {
    it(`MaxPoolGrad matches cpu (pool ${pool}, stride ${stride}, ${pad})`, async () => {
      const make = () => {
        const x = tf.randomNormal([3, 37, 6], 0, 1, 'float32', 8);
        const dy = tf.randomNormal(tf.maxPool(x.reshape([3, 1, 37, 6]) as tf.Tensor4D, [1, pool], [1, stride], pad).shape, 0, 1, 'float32', 9);
        return tf.grad((xx: tf.Tensor) => tf.maxPool(xx.reshape([3, 1, 37, 6]) as tf.Tensor4D, [1, pool], [1, stride], pad).mul(dy).sum())(x);
      };
      const [[cpu], [wasm]] = await onBoth(make);
      expect(maxAbsDiff(cpu, wasm)).toBeLessThan(1e-6);
    });
  }

  it('transposed matMul (both operands, batched) matches cpu', async () => {
    const make = () => {
      const a = tf.randomNormal([2, 7, 5], 0, 1, 'float32', 4);
      const b = tf.randomNormal([2, 9, 7], 0, 1, 'float32', 5);
      return [tf.matMul(a, b, true, true), tf.matMul(a.reshape([14, 5]), tf.randomNormal([14, 3], 0, 1, 'float32', 6), true, false)];
    };
    const [cpu, wasm] = await onBoth(make);
    expect(maxAbsDiff(cpu[0], wasm[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(cpu[1], wasm[1])).toBeLessThan(1e-4);
  });

  it('slice and unstack (contiguous and strided) match cpu', async () => {
    const make = () => {
      const x = tf.randomNormal([3, 5, 4, 2], 0, 1, 'float32', 7);
      return [
        tf.slice(x, [1, 2, 1, 0], [2, 3, 2, 2]),
        tf.slice(x, [0, 0, 0, 1], [3, 5, 4, 1]),
        tf.slice(x, [2, 0, 0, 0], [1, 5, 4, 2]),
        ...tf.unstack(x, 1),
        ...tf.unstack(x.reshape([15, 8]), 0),
        // Runs of 256 floats and more are copied with TypedArray.set, shorter ones by a loop: both paths.
        tf.slice(tf.randomNormal([3, 700], 0, 1, 'float32', 8), [1, 20], [2, 600]),
        tf.slice(tf.randomNormal([4, 3, 144], 0, 1, 'float32', 9), [0, 1, 48], [4, 2, 96]),
      ];
    };
    const [cpu, wasm] = await onBoth(make);
    expect(wasm.length).toBe(cpu.length);
    for (let i = 0; i < cpu.length; i++) expect(wasm[i]).toEqual(cpu[i]);
  });

  it('kernels do not leak tensors', async () => {
    await trySetBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 30, 1]) as tf.Tensor3D;
    const w0 = tf.randomNormal([5, 1, 4]);
    const w = tf.variable(w0);
    const g = tf.grad((ww: tf.Tensor) => tf.conv1d(x, ww as tf.Tensor3D, 1, 'same').sum())(w);
    const parts = tf.unstack(x, 1);
    const a = tf.ones([3, 4]);
    const b = tf.ones([5, 4]);
    const m = tf.matMul(a, b, false, true);
    tf.dispose([x, w0, w, g, m, a, b, ...parts]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
