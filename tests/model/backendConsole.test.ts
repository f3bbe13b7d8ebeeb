import { afterEach, describe, expect, it, vi } from 'vitest';
import { tf, trySetBackend } from '../../src/model/backend.js';

/**
 * stderr carries pino's JSON lines only (README): TensorFlow.js must not print its plain-text notices there. The cpu
 * backend printed "Hi, looks like you are running TensorFlow.js in Node.js..." through console.warn on its first tensor
 * (audit: `ECG_TF_BACKEND=cpu ecg-monitor serve --record 100 --speed 0 --to-s 3`). This file runs in its own process
 * (vitest pool 'forks'), so the cpu backend below is a fresh one, on its first tensor.
 */
describe('TensorFlow.js keeps quiet on the console', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the cpu backend set up by trySetBackend writes no banner on its first tensor', async () => {
    const warn = vi.spyOn(console, 'warn');
    const logged = vi.spyOn(console, 'log');
    expect(await trySetBackend('cpu')).toBe(true);
    const t = tf.tensor1d([1, 2, 3]);
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([]);
    expect(logged.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });
});
