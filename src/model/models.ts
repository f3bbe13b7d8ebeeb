/** The model zoo by name: what `ecg-monitor train --model` accepts. */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors.js';
import { buildCnn, buildMlp } from './baselines.js';
import { buildMshan } from './mshan.js';
import { MODEL_KINDS, usesRr, type ModelKind } from './names.js';

export { MODEL_KINDS, usesRr, type ModelKind };

/** Layer sizes of MSHAN that `train` may change (the defaults are the cost-sized network of src/model/mshan.ts). */
export interface ModelSize {
  /** Filters per convolution branch. */
  filters?: number;
  /** GRU units. */
  gruUnits?: number;
  /** Kernel sizes of a second multi-scale stage (none by default). */
  secondStageKernels?: readonly number[];
  /** With a second stage: the first stage's features reach the attention block beside it. */
  secondStageSkip?: boolean;
}

/**
 * Builds a fresh, seeded model of `kind` for `featureCount` RR features; `size` applies to MSHAN only. `channels` is 2
 * for models that take the stream's usual beat beside the window (`train --usual-beat`), else 1.
 */
export function buildModel(kind: ModelKind, featureCount: number, seed = 1, size: ModelSize = {}, channels = 1): tf.LayersModel {
  const f = usesRr(kind) ? featureCount : 0;
  switch (kind) {
    case 'mshan':
    case 'mshan-norr':
      return buildMshan({ featureCount: f, seed, ...size, channels });
    case 'cnn':
      return buildCnn({ featureCount: f, seed, channels });
    case 'mlp':
      return buildMlp({ featureCount: f, seed, channels });
    default:
      throw new ConfigError('ECG_ERR_BAD_OPTION', `unknown model "${String(kind)}" (expected ${MODEL_KINDS.join(', ')})`);
  }
}
