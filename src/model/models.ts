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
}

/** Builds a fresh, seeded model of `kind` for `featureCount` RR features; `size` applies to MSHAN only. */
export function buildModel(kind: ModelKind, featureCount: number, seed = 1, size: ModelSize = {}): tf.LayersModel {
  const f = usesRr(kind) ? featureCount : 0;
  switch (kind) {
    case 'mshan':
    case 'mshan-norr':
      return buildMshan({ featureCount: f, seed, ...size });
    case 'cnn':
      return buildCnn({ featureCount: f, seed });
    case 'mlp':
      return buildMlp({ featureCount: f, seed });
    default:
      throw new ConfigError('ECG_ERR_BAD_OPTION', `unknown model "${String(kind)}" (expected ${MODEL_KINDS.join(', ')})`);
  }
}
