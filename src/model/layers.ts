/**
 * Custom tfjs layers of the beat classifiers, each registered with `tf.serialization.registerClass` so that a saved
 * model (model.json) reloads with them. Layer and weight names follow Keras where a Keras equivalent exists.
 *
 * - {@link FastLayerNormalization}: the output of `tf.layers.layerNormalization` (within 1e-6; tested) without its
 *   `Tile` of mean and variance, which made the stock layer about 7x slower than needed on wasm (issue 4 facts).
 * - {@link TemporalAttention}: additive attention over time steps (Bahdanau et al. 2015) that re-weights the sequence.
 * - {@link ChannelAttention}: squeeze-and-excitation (Hu et al. 2018) over the channels of a sequence.
 *
 * References:
 * - Ba JL, Kiros JR, Hinton GE. Layer normalization. arXiv:1607.06450, 2016.
 * - Bahdanau D, Cho K, Bengio Y. Neural machine translation by jointly learning to align and translate. ICLR 2015.
 * - Hu J, Shen L, Sun G. Squeeze-and-excitation networks. CVPR 2018, 7132-7141. doi:10.1109/CVPR.2018.00745
 */
import * as tf from '@tensorflow/tfjs';
import { fusedGru, hasGruStepKernels } from './gruStepKernels.js';

type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];

function oneShape(inputShape: tf.Shape | tf.Shape[]): Shape {
  return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
}
function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

export interface FastLayerNormalizationArgs {
  /** Added to the variance, as in Keras. Default 1e-3 (the Keras and tfjs default). */
  epsilon?: number;
  name?: string;
}

/**
 * Layer normalisation over the last axis: `(x - mean) / sqrt(var + epsilon) * gamma + beta`, mean and variance per
 * position over the channels. Broadcasting replaces the stock layer's explicit Tile; the arithmetic is the same,
 * so the output matches `tf.layers.layerNormalization({axis: -1})` within float32 rounding.
 */
export class FastLayerNormalization extends tf.layers.Layer {
  static className = 'FastLayerNormalization';
  private readonly epsilon: number;
  private gamma?: tf.LayerVariable;
  private beta?: tf.LayerVariable;

  constructor(args: FastLayerNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-3;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const channels = shape[shape.length - 1];
    if (channels === null) throw new Error('FastLayerNormalization: the last dimension must be known');
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const { mean, variance } = tf.moments(x, -1, true);
      const inv = tf.rsqrt(tf.add(variance, this.epsilon));
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), inv), this.gamma!.read()), this.beta!.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

export interface TemporalAttentionArgs {
  /** Width of the scoring layer. Default 8. */
  units?: number;
  /** Seed of the weight initialiser (reproducible models). */
  seed?: number;
  name?: string;
}

/**
 * Additive temporal attention that re-weights a sequence `x` [batch, steps, channels]:
 * `e_t = v · tanh(W x_t + b)`, `a = softmax_t(e)`, output `x_t * a_t * steps`. Multiplying by the number of
 * steps makes uniform attention the identity, so the layer starts near a pass-through and sits well in a residual
 * block. The softmax runs over the last axis of a [batch, steps] tensor (tfjs softmax supports only that axis).
 */
export class TemporalAttention extends tf.layers.Layer {
  static className = 'TemporalAttention';
  private readonly units: number;
  private readonly seed?: number;
  private w?: tf.LayerVariable;
  private b?: tf.LayerVariable;
  private v?: tf.LayerVariable;

  constructor(args: TemporalAttentionArgs = {}) {
    super(args);
    this.units = args.units ?? 8;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const channels = shape[shape.length - 1]!;
    this.w = this.addWeight('kernel', [channels, this.units], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    this.b = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.v = this.addWeight('score', [this.units, 1], 'float32', tf.initializers.glorotUniform({ seed: this.seed === undefined ? undefined : this.seed + 1 }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs) as tf.Tensor3D;
      const [batch, steps, channels] = x.shape;
      const flat = tf.reshape(x, [batch * steps, channels]);
      const hidden = tf.tanh(tf.add(tf.matMul(flat, this.w!.read()), this.b!.read()));
      const scores = tf.reshape(tf.matMul(hidden, this.v!.read()), [batch, steps]);
      const weights = tf.mul(tf.softmax(scores), steps);
      return tf.mul(x, tf.reshape(weights, [batch, steps, 1]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, seed: this.seed ?? null };
  }
}

export interface ChannelAttentionArgs {
  /** Channel reduction ratio of the bottleneck. Default 4. */
  ratio?: number;
  seed?: number;
  name?: string;
}

/**
 * Squeeze-and-excitation over the channels of `x` [batch, steps, channels]: `s = sigmoid(W2 relu(W1 mean_t(x)))`,
 * output `x * s` (one gate per channel, shared by all steps).
 */
export class ChannelAttention extends tf.layers.Layer {
  static className = 'ChannelAttention';
  private readonly ratio: number;
  private readonly seed?: number;
  private w1?: tf.LayerVariable;
  private b1?: tf.LayerVariable;
  private w2?: tf.LayerVariable;
  private b2?: tf.LayerVariable;

  constructor(args: ChannelAttentionArgs = {}) {
    super(args);
    this.ratio = args.ratio ?? 4;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const channels = shape[shape.length - 1]!;
    const hidden = Math.max(1, Math.floor(channels / this.ratio));
    const seed = (k: number) => (this.seed === undefined ? undefined : this.seed + k);
    this.w1 = this.addWeight('squeeze_kernel', [channels, hidden], 'float32', tf.initializers.heNormal({ seed: seed(0) }));
    this.b1 = this.addWeight('squeeze_bias', [hidden], 'float32', tf.initializers.zeros());
    this.w2 = this.addWeight('excite_kernel', [hidden, channels], 'float32', tf.initializers.glorotUniform({ seed: seed(1) }));
    this.b2 = this.addWeight('excite_bias', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs) as tf.Tensor3D;
      const squeezed = tf.mean(x, 1);
      const hidden = tf.relu(tf.add(tf.matMul(squeezed, this.w1!.read()), this.b1!.read()));
      const gates = tf.sigmoid(tf.add(tf.matMul(hidden, this.w2!.read()), this.b2!.read()));
      return tf.mul(x, tf.expandDims(gates, 1));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ratio: this.ratio, seed: this.seed ?? null };
  }
}

let registeredClasses = false;
/** Registers the custom layers for deserialisation (idempotent; model loading calls it). */
export function registerCustomLayers(): void {
  if (registeredClasses) return;
  for (const cls of [FastLayerNormalization, TemporalAttention, ChannelAttention]) tf.serialization.registerClass(cls);
  registeredClasses = true;
}
registerCustomLayers();

export interface FastGruArgs {
  units: number;
  /** Seed of the input-kernel initialiser (glorotUniform); the recurrent kernel uses seed + 1 (orthogonal). */
  seed?: number;
  name?: string;
}

/**
 * A GRU over a whole sequence [batch, steps, channels] -> last state [batch, units], the same function as
 * `tf.layers.gru({units, recurrentActivation: 'sigmoid', resetAfter: false})` with Keras's weight layout
 * (`kernel` [channels, 3·units], `recurrent_kernel` [units, 3·units], `bias` [3·units], gates in z, r, h order):
 *
 * ```
 * z = sigmoid(x W_z + h U_z + b_z)     r = sigmoid(x W_r + h U_r + b_r)
 * h~ = tanh(x W_h + (r * h) U_h + b_h)  h' = z * h + (1 - z) * h~  =  h~ + z * (h - h~)
 * ```
 * Why not the stock layer: tfjs runs a GRU step by step, and the stock cell spends about 30 kernel calls per step
 * (a matMul per gate on the input, splits of the kernels, reshapes). Here the input projections of all steps are one
 * matMul before the loop, and a step costs 12 kernel calls, so the per-call overhead that dominates batch-1 latency
 * and the backward pass shrinks about threefold. At inference on wasm, a step is 4 calls (src/model/gruStepKernels.ts).
 */
export class FastGru extends tf.layers.Layer {
  static className = 'FastGru';
  private readonly units: number;
  private readonly seed?: number;
  private kernel?: tf.LayerVariable;
  private recurrentKernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: FastGruArgs) {
    super(args);
    this.units = args.units;
    this.seed = args.seed;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = oneShape(inputShape);
    const channels = shape[shape.length - 1]!;
    const u = this.units;
    this.kernel = this.addWeight('kernel', [channels, 3 * u], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], 'float32', tf.initializers.orthogonal({ seed: this.seed === undefined ? undefined : this.seed + 1, gain: 1 }));
    this.bias = this.addWeight('bias', [3 * u], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [oneShape(inputShape)[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    // When no gradient is being recorded, on a backend with the fused step kernels (wasm), a step is 4 kernel calls
    // instead of 12; the fused kernels have no gradients, so training (and any tf.grad) takes the op chain below.
    const fused = !tf.engine().isTapeOn() && hasGruStepKernels();
    return tf.tidy(() => {
      const x = oneTensor(inputs) as tf.Tensor3D;
      const [batch, steps, channels] = x.shape;
      const u = this.units;
      const kernel = this.kernel!.read() as tf.Tensor2D;
      const recurrent = this.recurrentKernel!.read() as tf.Tensor2D;
      const bias = this.bias!.read();
      // Input projections of every step at once.
      const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [batch * steps, channels]), kernel), bias), [batch, steps, 3 * u]) as tf.Tensor3D;
      const uzr = tf.slice(recurrent, [0, 0], [u, 2 * u]);
      const uh = tf.slice(recurrent, [0, 2 * u], [u, u]);
      if (fused) return fusedGru(projected, uzr, uh);
      // Time-major, so that unstack yields contiguous [batch, .] slices.
      const timeMajor = tf.transpose(projected, [1, 0, 2]);
      const xzr = tf.unstack(tf.slice(timeMajor, [0, 0, 0], [steps, batch, 2 * u]));
      const xh = tf.unstack(tf.slice(timeMajor, [0, 0, 2 * u], [steps, batch, u]));
      let h: tf.Tensor2D = tf.zeros([batch, u]);
      for (let t = 0; t < steps; t++) {
        const zr = tf.sigmoid(tf.add(xzr[t], tf.matMul(h, uzr)));
        const z = tf.slice(zr, [0, 0], [batch, u]);
        const r = tf.slice(zr, [0, u], [batch, u]);
        const candidate = tf.tanh(tf.add(xh[t], tf.matMul(tf.mul(r, h), uh)));
        h = tf.add(candidate, tf.mul(z, tf.sub(h, candidate)));
      }
      return h;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, seed: this.seed ?? null };
  }
}
tf.serialization.registerClass(FastGru);
