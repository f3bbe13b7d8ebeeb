/**
 * Mixup (Zhang et al. 2018): a training batch blended with a shuffled copy of itself, inputs and targets alike,
 * x = λ x_i + (1 - λ) x_j and y = λ y_i + (1 - λ) y_j, with λ ~ Beta(α, α). One λ per batch and a random partner
 * per beat, as in the paper's code. Every draw comes from the run's seeded generator, so a resumed run blends the
 * same way.
 *
 * References:
 * - Zhang H, Cisse M, Dauphin YN, Lopez-Paz D. mixup: beyond empirical risk minimization. ICLR 2018.
 *   arXiv:1710.09412
 * - Marsaglia G, Tsang WW. A simple method for generating gamma variables. ACM TOMS 2000;26(3):363-372.
 *   doi:10.1145/358407.358414
 */
import * as tf from '@tensorflow/tfjs';
import type { SeededRandom } from '../dataset/seededRandom.js';

/** How one batch is blended: the weight of each beat itself, and the beat (row) it is blended with. */
export interface MixupPlan {
  lambda: number;
  partner: Int32Array;
}

/** A Gamma(shape, 1) draw by Marsaglia and Tsang's method; shapes below 1 by their boost, Gamma(a + 1) x U^(1/a). */
export function gammaSample(rng: SeededRandom, shape: number): number {
  if (shape < 1) return gammaSample(rng, shape + 1) * (1 - rng.next()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = rng.normal();
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(alpha, alpha) draw, as the ratio of two Gamma(alpha) draws. */
export function betaSample(rng: SeededRandom, alpha: number): number {
  const a = gammaSample(rng, alpha);
  const b = gammaSample(rng, alpha);
  return a + b > 0 ? a / (a + b) : 0.5;
}

/** Draws the blend of a batch of `size` beats: λ ~ Beta(alpha, alpha) and a random permutation of the rows. */
export function mixupPlan(rng: SeededRandom, size: number, alpha: number): MixupPlan {
  const lambda = betaSample(rng, alpha);
  const order = rng.shuffle(Array.from({ length: size }, (_, i) => i));
  return { lambda, partner: Int32Array.from(order) };
}

/** Blends a batch tensor (beats on the first axis) as the plan says: λ x + (1 - λ) x[partner]. */
export function mixRows(x: tf.Tensor, plan: MixupPlan): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(x, plan.lambda), tf.mul(tf.gather(x, tf.tensor1d(plan.partner, 'int32')), 1 - plan.lambda)));
}
