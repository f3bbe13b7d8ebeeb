/**
 * Two fused kernels for one GRU step at inference, registered on the tfjs wasm backend and used by FastGru
 * (src/model/layers.ts) whenever no gradient is being recorded.
 *
 * Why: tfjs runs a GRU step by step, and on one wasm thread a step of FastGru was 12 kernel calls of about 12 µs of
 * dispatch each, plus a wasm `Tanh` that takes 48 µs for a [64, 48] tensor (it is not vectorised; measured here).
 * The GRU was over half of MSHAN's inference time. These kernels do the element-wise parts of a step in one pass
 * over the wasm heap each, so that a step is 4 calls: matMul, {@link GRU_GATES}, matMul, {@link GRU_UPDATE}.
 *
 * ```
 * GRU_GATES   (x_t, hzr, h) -> (z, rh):  z = sigmoid(x_t W_z + b_z + hzr_z),  rh = sigmoid(x_t W_r + b_r + hzr_r) * h
 * GRU_UPDATE  (x_t, rhh, z, h) -> h':     c = tanh(x_t W_h + b_h + rhh),  h' = c + z * (h - c)
 * ```
 * where hzr = h U_zr and rhh = rh U_h. The kernels read step t's input projection x_t W + b in place, from the one
 * matMul that projects all steps at once: slicing and unstacking it per step cost more than the step itself.
 *
 * tanh and sigmoid use Eigen's rational approximation of tanh (sigmoid(x) = (1 + tanh(x / 2)) / 2), within 3e-7 of
 * the exact functions (tests/model/gruStepKernels.test.ts) and about 3x faster in JavaScript than with Math.exp. No
 * gradients are registered: under a gradient tape (training, tf.grad) FastGru runs the same step as ordinary tfjs ops.
 *
 * Reference: Eigen, `generic_fast_tanh_float` (Eigen/src/Core/MathFunctionsImpl.h), a 13/6 rational approximation.
 */
import * as tf from '@tensorflow/tfjs';

export const GRU_GATES = 'EcgMonitorGruGates';
export const GRU_UPDATE = 'EcgMonitorGruUpdate';

type TensorInfo = tf.TensorInfo;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

// Eigen's coefficients; beyond ±TANH_CLAMP the input is clamped (tanh is then within 3e-7 of ±1).
const TANH_CLAMP = 7.90531110763549805;
const A1 = 4.89352455891786e-3, A3 = 6.37261928875436e-4, A5 = 1.48572235717979e-5, A7 = 5.12229709037114e-8;
const A9 = -8.60467152213735e-11, A11 = 2.00018790482477e-13, A13 = -2.76076847742355e-16;
const B0 = 4.89352518554385e-3, B2 = 2.26843463243900e-3, B4 = 1.18534705686654e-4, B6 = 1.19825839466702e-6;

/** tanh(x) within 3e-7, by Eigen's rational approximation. */
export function fastTanh(x: number): number {
  const c = x > TANH_CLAMP ? TANH_CLAMP : x < -TANH_CLAMP ? -TANH_CLAMP : x;
  const x2 = c * c;
  let p = x2 * A13 + A11;
  p = x2 * p + A9;
  p = x2 * p + A7;
  p = x2 * p + A5;
  p = x2 * p + A3;
  p = x2 * p + A1;
  let q = x2 * B6 + B4;
  q = x2 * q + B2;
  q = x2 * q + B0;
  return (c * p) / q;
}

/** sigmoid(x) within 2e-7, as (1 + tanh(x / 2)) / 2. */
export function fastSigmoid(x: number): number {
  return 0.5 + 0.5 * fastTanh(0.5 * x);
}

interface StepAttrs {
  /** The time step whose input projection the kernel reads. */
  step: number;
}

// `projected` is [batch, steps, 3 * units]: x W + b of every step, gates in z, r, h order (Keras's layout).
function gruGatesWasm({ inputs, backend, attrs }: { inputs: { projected: TensorInfo; hzr: TensorInfo; h: TensorInfo }; backend: WasmBackendLike; attrs: StepAttrs }): TensorInfo[] {
  const [batch, units] = inputs.h.shape;
  const [, steps] = inputs.projected.shape;
  const zOut = backend.makeOutput([batch, units], 'float32');
  const rhOut = backend.makeOutput([batch, units], 'float32');
  // Views after the outputs are allocated: an allocation may grow, and so detach, the heap.
  const x = backend.typedArrayFromHeap(inputs.projected), hzr = backend.typedArrayFromHeap(inputs.hzr), h = backend.typedArrayFromHeap(inputs.h);
  const z = backend.typedArrayFromHeap(zOut), rh = backend.typedArrayFromHeap(rhOut);
  for (let b = 0; b < batch; b++) {
    const xo = (b * steps + attrs.step) * 3 * units, g = b * 2 * units, o = b * units;
    for (let j = 0; j < units; j++) {
      z[o + j] = fastSigmoid(x[xo + j] + hzr[g + j]);
      rh[o + j] = fastSigmoid(x[xo + units + j] + hzr[g + units + j]) * h[o + j];
    }
  }
  return [zOut, rhOut];
}

function gruUpdateWasm({ inputs, backend, attrs }: { inputs: { projected: TensorInfo; rhh: TensorInfo; z: TensorInfo; h: TensorInfo }; backend: WasmBackendLike; attrs: StepAttrs }): TensorInfo {
  const [batch, units] = inputs.h.shape;
  const [, steps] = inputs.projected.shape;
  const out = backend.makeOutput([batch, units], 'float32');
  const x = backend.typedArrayFromHeap(inputs.projected), rhh = backend.typedArrayFromHeap(inputs.rhh);
  const z = backend.typedArrayFromHeap(inputs.z), h = backend.typedArrayFromHeap(inputs.h);
  const next = backend.typedArrayFromHeap(out);
  for (let b = 0; b < batch; b++) {
    const xo = (b * steps + attrs.step) * 3 * units + 2 * units, o = b * units;
    for (let j = 0; j < units; j++) {
      const c = fastTanh(x[xo + j] + rhh[o + j]);
      next[o + j] = c + z[o + j] * (h[o + j] - c);
    }
  }
  return out;
}

/** Registers (once) the two kernels on the wasm backend. */
export function registerGruStepKernels(): void {
  if (tf.getKernel(GRU_GATES, 'wasm') === undefined) tf.registerKernel({ kernelName: GRU_GATES, backendName: 'wasm', kernelFunc: gruGatesWasm as unknown as tf.KernelFunc });
  if (tf.getKernel(GRU_UPDATE, 'wasm') === undefined) tf.registerKernel({ kernelName: GRU_UPDATE, backendName: 'wasm', kernelFunc: gruUpdateWasm as unknown as tf.KernelFunc });
}

/** Whether the active backend has the fused step kernels. */
export function hasGruStepKernels(): boolean {
  const backend = tf.engine().backendName; // getBackend() would initialise one if none were active
  return tf.getKernel(GRU_GATES, backend) !== undefined && tf.getKernel(GRU_UPDATE, backend) !== undefined;
}

/**
 * The GRU over all steps through the fused kernels (see the module comment): `projected` [batch, steps, 3 * units]
 * holds x W + b of every step, `uzr` [units, 2 * units] and `uh` [units, units] are U's gate columns; returns the last
 * state [batch, units].
 */
export function fusedGru(projected: tf.Tensor3D, uzr: tf.Tensor2D, uh: tf.Tensor2D): tf.Tensor2D {
  const [batch, steps] = projected.shape;
  const engine = tf.engine();
  let h: tf.Tensor2D = tf.zeros([batch, uh.shape[0]]);
  for (let step = 0; step < steps; step++) {
    const [z, rh] = engine.runKernel(GRU_GATES, { projected, hzr: tf.matMul(h, uzr), h }, { step }) as tf.Tensor2D[];
    h = engine.runKernel(GRU_UPDATE, { projected, rhh: tf.matMul(rh, uh), z, h }, { step }) as tf.Tensor2D;
  }
  return h;
}
