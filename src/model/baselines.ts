/**
 * Two of the baselines the MSHAN paper compares against, sized like MSHAN for one wasm thread: a 1-D CNN and an MLP.
 * Both take the same inputs as MSHAN (beat window, plus the RR features when featureCount > 0), so that a comparison on
 * the same split isolates the architecture.
 *
 * References:
 * - Kiranyaz S, Ince T, Gabbouj M. Real-time patient-specific ECG classification by 1-D convolutional neural
 *   networks. IEEE TBME 2016;63(3):664-675. doi:10.1109/TBME.2015.2468589
 */
import * as tf from '@tensorflow/tfjs';
import { CLASS_COUNT, WINDOW_LENGTH } from './mshan.js';

export interface BaselineOptions {
  featureCount: number;
  seed?: number;
  /** Input channels: 1 (the window), or 2 (the window and the stream's usual beat). Default 1. */
  channels?: number;
}

function head(inputs: tf.SymbolicTensor[], features: tf.SymbolicTensor, featureCount: number, init: () => ReturnType<typeof tf.initializers.glorotUniform>, name: string): tf.LayersModel {
  let h = features;
  if (featureCount > 0) {
    const rr = tf.input({ shape: [featureCount], name: 'rr' });
    inputs.push(rr);
    h = tf.layers.concatenate({ axis: -1, name: 'join_rr' }).apply([h, rr]) as tf.SymbolicTensor;
  }
  const dense = tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(), name: 'dense' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASS_COUNT, activation: 'softmax', kernelInitializer: init(), name: 'classes' }).apply(dense) as tf.SymbolicTensor;
  return tf.model({ inputs, outputs: out, name });
}

/** 1-D CNN: three conv + pool stages (16, 32, 32 filters), global average pooling, dense 32, softmax. */
export function buildCnn({ featureCount, seed = 1, channels = 1 }: BaselineOptions): tf.LayersModel {
  let k = seed * 1000 + 500;
  const init = () => tf.initializers.glorotUniform({ seed: k++ });
  const window = tf.input({ shape: [WINDOW_LENGTH, channels], name: 'window' });
  let x = window;
  const stages: [number, number, number][] = [[16, 7, 2], [32, 5, 1], [32, 3, 1]]; // filters, kernel, stride
  stages.forEach(([filters, kernelSize, strides], i) => {
    x = tf.layers.conv1d({ filters, kernelSize, strides, padding: 'same', activation: 'relu', kernelInitializer: init(), name: `conv${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling1d({ poolSize: 3, name: `pool${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  const pooled = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  return head([window], pooled, featureCount, init, featureCount > 0 ? 'cnn' : 'cnn_norr');
}

/** MLP: the flattened window through dense 64 and dense 32 (relu), then the shared head. */
export function buildMlp({ featureCount, seed = 1, channels = 1 }: BaselineOptions): tf.LayersModel {
  let k = seed * 1000 + 700;
  const init = () => tf.initializers.glorotUniform({ seed: k++ });
  const window = tf.input({ shape: [WINDOW_LENGTH, channels], name: 'window' });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(window) as tf.SymbolicTensor;
  const h1 = tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(), name: 'hidden1' }).apply(flat) as tf.SymbolicTensor;
  const h2 = tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(), name: 'hidden2' }).apply(h1) as tf.SymbolicTensor;
  return head([window], h2, featureCount, init, featureCount > 0 ? 'mlp' : 'mlp_norr');
}
