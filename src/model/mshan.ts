/**
 * MSHAN — multi-scale hybrid attention network for beat classification — sized for cost on one wasm thread.
 *
 * The reference design (the MSHAN notebook the issue cites) stacks parallel multi-scale 1-D convolution branches
 * (kernels 7/13/19, then 11/17/23), temporal and channel attention, residual connections with layer normalisation,
 * two GRUs (128 then 64 units), a dense layer and a softmax. tfjs runs a GRU step by step in JavaScript, so the
 * number of GRU steps times the batch dominates the cost; a straightforward port (3 x 32 filters at full length,
 * GRU 64 over 90 steps, 35k parameters) trained at ~110 s per 10k beats per epoch and inferred ~500 beats/s on wasm.
 * This version keeps every ingredient and shrinks the sizes:
 *
 * ```
 * window [360, 1] (z-scored beat, R-peak at index 180)
 *   ├─ conv1d k=3  16 filters stride 3 relu ─┐
 *   ├─ conv1d k=7  16 filters stride 3 relu ─┼─ concat [120, 48] ─ max-pool 4 ─> x [30, 48]
 *   └─ conv1d k=15 16 filters stride 3 relu ─┘
 * x ─ temporal attention ─ channel attention (squeeze-excite) ─ + x ─ layer norm ─ GRU 32 (sigmoid gates) ─> h [32]
 * concat(h, rr [F]) ─ dense 32 relu ─ dense 5 softmax (N S V F Q)
 * ```
 * about 11k parameters. The receptive fields at the input are 3, 7 and 15 samples (8–42 ms) per branch, and after
 * pooling each GRU step covers 12 samples (33 ms). `mshan-norr` is the same network without the RR input (ablation).
 *
 * The GRU uses a sigmoid recurrent activation as Keras does (tfjs defaults to hardSigmoid); tfjs has no
 * `resetAfter`, so this is the original (reset-before) GRU of Cho et al. 2014.
 *
 * References:
 * - Cho K et al. Learning phrase representations using RNN encoder-decoder for statistical machine translation.
 *   EMNLP 2014, 1724-1734. doi:10.3115/v1/D14-1179
 * - He K, Zhang X, Ren S, Sun J. Deep residual learning for image recognition. CVPR 2016. doi:10.1109/CVPR.2016.90
 * - See src/model/layers.ts for the attention and normalisation layers.
 */
import * as tf from '@tensorflow/tfjs';
import { ChannelAttention, FastGru, FastLayerNormalization, TemporalAttention } from './layers.js';

/** Samples per beat window (180 before + 180 after the R-peak at 360 Hz). */
export const WINDOW_LENGTH = 360;
/** Output classes, in the order of the softmax (AAMI EC57). */
export const CLASS_COUNT = 5;

export interface MshanOptions {
  /** Number of RR features joined before the head; 0 builds the ablation without RR input. */
  featureCount: number;
  /** Base seed of the weight initialisers (each layer gets seed + k). Default 1. */
  seed?: number;
  /** Filters per convolution branch. Default 16. */
  filters?: number;
  /** Kernel sizes of the parallel branches, samples. Default [3, 7, 15]. */
  kernelSizes?: readonly number[];
  /** Convolution stride. Default 3 (360 -> 120 steps). */
  stride?: number;
  /** Max-pool size after the branches. Default 4 (120 -> 30 GRU steps). */
  poolSize?: number;
  /** GRU units. Default 32. */
  gruUnits?: number;
  /**
   * Kernel sizes, in pooled steps, of a second multi-scale stage between the pooling and the attention block (the
   * reference design stacks two stages); empty (the default) for none. Each branch has `filters / 2` filters.
   */
  secondStageKernels?: readonly number[];
  /**
   * With a second stage: the attention block gets the pooled first-stage features beside the second stage's
   * (concatenated along channels) instead of the second stage's alone, so the fine scales reach it too. Default false.
   */
  secondStageSkip?: boolean;
  /**
   * Input channels: 1 (the window), or 2 (the window and the stream's usual beat, normalised alike: `train
   * --usual-beat`), so that the first convolutions see the beat beside the patient's own usual one. Default 1.
   */
  channels?: number;
  /** Units of the dense layer before the softmax. Default 32. */
  denseUnits?: number;
  /**
   * GRU implementation: `fast` (FastGru, src/model/layers.ts) or `stock` (tf.layers.gru with a sigmoid recurrent
   * activation): the same function, kept to measure what FastGru saves. Default 'fast'.
   */
  gru?: 'fast' | 'stock';
}

/** Runs `build` with tfjs's "Orthogonal initializer ... Slowness may result" console warning silenced (a 32x96 QR is fast). */
export function quietly<T>(build: () => T): T {
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    return build();
  } finally {
    console.warn = warn;
  }
}

/**
 * The second multi-scale stage: parallel 1-D convolutions over the pooled steps (stride 1), concatenated. Its kernels
 * count pooled steps of 12 samples, so 3, 5 and 7 span 100 to 230 ms at the input: QRS to QRS-plus-ST scale.
 */
function secondStage(x: tf.SymbolicTensor, kernelSizes: readonly number[], filters: number, init: () => ReturnType<typeof tf.initializers.glorotUniform>): tf.SymbolicTensor {
  const branches = kernelSizes.map((kernelSize, i) =>
    tf.layers
      .conv1d({ filters, kernelSize, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `stage2_k${kernelSize}_${i}` })
      .apply(x) as tf.SymbolicTensor,
  );
  return tf.layers.concatenate({ axis: -1, name: 'multiscale2' }).apply(branches) as tf.SymbolicTensor;
}

/** Builds MSHAN (see the module comment); inputs `window` [360, channels] and, unless featureCount is 0, `rr` [featureCount]. */
export function buildMshan(options: MshanOptions): tf.LayersModel {
  const { featureCount, seed = 1, filters = 16, kernelSizes = [3, 7, 15], stride = 3, poolSize = 4, gruUnits = 32, denseUnits = 32, gru = 'fast', secondStageKernels = [], secondStageSkip = false, channels = 1 } = options;
  let k = seed * 1000;
  const init = () => tf.initializers.glorotUniform({ seed: k++ });
  return quietly(() => {
    const window = tf.input({ shape: [WINDOW_LENGTH, channels], name: 'window' });
    const branches = kernelSizes.map((kernelSize, i) =>
      tf.layers
        .conv1d({ filters, kernelSize, strides: stride, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `branch_k${kernelSize}_${i}` })
        .apply(window) as tf.SymbolicTensor,
    );
    const merged = tf.layers.concatenate({ axis: -1, name: 'multiscale' }).apply(branches) as tf.SymbolicTensor;
    const pooled = tf.layers.maxPooling1d({ poolSize, name: 'pool' }).apply(merged) as tf.SymbolicTensor;
    const stage2 = secondStageKernels.length === 0 ? undefined : secondStage(pooled, secondStageKernels, Math.max(1, Math.floor(filters / 2)), init);
    const x = !stage2 ? pooled : secondStageSkip ? (tf.layers.concatenate({ axis: -1, name: 'multiscale_skip' }).apply([pooled, stage2]) as tf.SymbolicTensor) : stage2;
    const temporal = new TemporalAttention({ units: 8, seed: k++ * 2, name: 'temporal_attention' }).apply(x) as tf.SymbolicTensor;
    const channel = new ChannelAttention({ ratio: 4, seed: k++ * 2, name: 'channel_attention' }).apply(temporal) as tf.SymbolicTensor;
    const residual = tf.layers.add({ name: 'residual' }).apply([x, channel]) as tf.SymbolicTensor;
    const normed = new FastLayerNormalization({ name: 'layer_norm' }).apply(residual) as tf.SymbolicTensor;
    const gruSeed = (k += 2);
    const h = (gru === 'fast'
      ? new FastGru({ units: gruUnits, seed: gruSeed, name: 'gru' })
      : tf.layers.gru({ units: gruUnits, recurrentActivation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: gruSeed }), recurrentInitializer: tf.initializers.orthogonal({ seed: gruSeed + 1, gain: 1 }), name: 'gru' })
    ).apply(normed) as tf.SymbolicTensor;
    const inputs = [window];
    let head = h;
    if (featureCount > 0) {
      const rr = tf.input({ shape: [featureCount], name: 'rr' });
      inputs.push(rr);
      head = tf.layers.concatenate({ axis: -1, name: 'join_rr' }).apply([h, rr]) as tf.SymbolicTensor;
    }
    const dense = tf.layers.dense({ units: denseUnits, activation: 'relu', kernelInitializer: init(), name: 'dense' }).apply(head) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: CLASS_COUNT, activation: 'softmax', kernelInitializer: init(), name: 'classes' }).apply(dense) as tf.SymbolicTensor;
    return tf.model({ inputs, outputs: out, name: featureCount > 0 ? 'mshan' : 'mshan_norr' });
  });
}
