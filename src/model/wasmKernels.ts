/**
 * Kernels registered on the tfjs wasm backend so that training runs there, and so that it runs fast.
 *
 * - `Conv2DBackpropFilter` (the conv1d/conv2d weight gradient) has no wasm kernel in tfjs 4.22, so training a
 *   convolutional model on wasm fails with "Kernel 'Conv2DBackpropFilter' not registered". Ours is plain
 *   typed-array loops over the wasm heap (NHWC only, dilation 1 — what tfjs-layers' conv1d emits), checked
 *   against the cpu backend's kernel in tests/model/wasmKernels.test.ts.
 * - `BatchMatMul` with a transposed operand is 4–10x slower on wasm than an explicit `Transpose` then a plain
 *   matMul (measured on this machine, issue 4); every backward pass of a dense or recurrent layer uses
 *   transposed operands. The wrapper transposes first, then calls the stock kernel.
 * - `Slice` and `Unpack` (tf.unstack, used by every tfjs RNN once per time step) read their input with
 *   `backend.readSync`, which *copies the whole input* out of the wasm heap for every output: T steps cost T full
 *   copies. Ours read a view of the heap instead (`typedArrayFromHeap`), taken after the output is allocated
 *   because an allocation may grow — and so detach — the heap.
 *
 * - `MaxPoolGrad` on wasm took 8.9 ms for one [64, 120, 48] pool-4 gradient (measured here; the forward pool takes
 *   0.15 ms): ours routes each output gradient to the first maximum of its window, as the cpu kernel does.
 *
 * The wasm backend's objects are typed loosely here (`WasmBackendLike`): tfjs does not export BackendWasm's
 * internals from its public types.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type TypedArray = Float32Array | Int32Array | Uint8Array;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
  disposeData(dataId: object): boolean;
}

const registered = new Set<string>();

/** Registers (once) the wasm kernels described in the module comment. Call after the wasm backend is initialised. */
export function registerWasmTrainingKernels(): void {
  if (!registered.has('Conv2DBackpropFilter') && tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc });
    registered.add('Conv2DBackpropFilter');
  }
  wrapBatchMatMul();
  replaceKernel('Slice', sliceWasm as unknown as tf.KernelFunc);
  replaceKernel('MaxPoolGrad', maxPoolGradWasm as unknown as tf.KernelFunc);
  replaceKernel('Unpack', unpackWasm as unknown as tf.KernelFunc);
}

function replaceKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (registered.has(kernelName)) return;
  const stock = tf.getKernel(kernelName, 'wasm');
  if (stock !== undefined) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc, setupFunc: stock?.setupFunc, disposeFunc: stock?.disposeFunc });
  registered.add(kernelName);
}

// ---------------------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter: dW[wR, wC, d1, d2] = sum_{b, yR, yC} x[b, xR, xC, d1] * dy[b, yR, yC, d2],
// with xR = yR*strideH + wR - padTop, xC = yC*strideW + wC - padLeft (same index map as the cpu kernel).
// Layout (NHWC, the only one tfjs-layers emits): x [B, inH, inW, inC], dy [B, outH, outW, outC], dW [fH, fW, inC, outC].
// The innermost loop runs over d2, contiguous in both dy and dW. Sums in float64, stored as float32.
// ---------------------------------------------------------------------------------------------------------------
interface ConvBackpropFilterArgs {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
}

export function conv2DBackpropFilterWasm({ inputs, backend, attrs }: ConvBackpropFilterArgs): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm, ecg-monitor): only NHWC is implemented');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const topPad = info.padInfo.top;
  const leftPad = info.padInfo.left;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const out = backend.makeOutput(filterShape, 'float32');
  const xv = backend.typedArrayFromHeap(x);
  const dyv = backend.typedArrayFromHeap(dy);
  const xStrideB = inHeight * inWidth * inChannels, xStrideR = inWidth * inChannels;
  const dyStrideB = outHeight * outWidth * outChannels, dyStrideR = outWidth * outChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      for (let wR = 0; wR < filterHeight; wR++) {
        const xR = yR * strideHeight + wR - topPad;
        if (xR < 0 || xR >= inHeight) continue;
        for (let yC = 0; yC < outWidth; yC++) {
          const dyOff = b * dyStrideB + yR * dyStrideR + yC * outChannels;
          for (let wC = 0; wC < filterWidth; wC++) {
            const xC = yC * strideWidth + wC - leftPad;
            if (xC < 0 || xC >= inWidth) continue;
            const xOff = b * xStrideB + xR * xStrideR + xC * inChannels;
            const wOff = (wR * filterWidth + wC) * inChannels * outChannels;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xval = xv[xOff + d1];
              if (xval === 0) continue;
              const base = wOff + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; d2++) acc[base + d2] += xval * dyv[dyOff + d2];
            }
          }
        }
      }
    }
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// BatchMatMul: transpose explicitly, then the stock kernel without transposes.
// ---------------------------------------------------------------------------------------------------------------
function wrapBatchMatMul(): void {
  if (registered.has('BatchMatMul')) return;
  const stock = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (stock === undefined || transpose === undefined) return;
  const stockFunc = stock.kernelFunc;
  const transposeFunc = transpose.kernelFunc;
  const kernelFunc = (args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: WasmBackendLike; attrs: { transposeA: boolean; transposeB: boolean } }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return stockFunc(args as never) as TensorInfo;
    const swapLast = (t: TensorInfo): TensorInfo => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
      return transposeFunc({ inputs: { x: t }, backend: backend as unknown as tf.KernelBackend, attrs: { perm } as unknown as tf.NamedAttrMap }) as TensorInfo;
    };
    const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a;
    const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b;
    const out = stockFunc({
      inputs: { a, b } as unknown as tf.NamedTensorInfoMap,
      backend: backend as unknown as tf.KernelBackend,
      attrs: { ...attrs, transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap,
    }) as TensorInfo;
    if (a !== inputs.a) backend.disposeData(a.dataId);
    if (b !== inputs.b) backend.disposeData(b.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc });
  registered.add('BatchMatMul');
}

// ---------------------------------------------------------------------------------------------------------------
// Slice / Unpack without copying the whole input. Row-major strides; the innermost dimension of the slice is one
// contiguous run, copied with TypedArray.set.
// ---------------------------------------------------------------------------------------------------------------
const SHORT_RUN = 256;

function sliceInto(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[], outShape: number[]): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  const total = size.reduce((p, s) => p * s, 1);
  if (total === 0) return out;
  const xv = backend.typedArrayFromHeap(x); // after makeOutput: the heap may have grown
  const ov = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { strides[d] = s; s *= x.shape[d]; }
  // Merge the trailing dimensions that are taken whole into one contiguous run.
  let inner = rank - 1;
  let run = size[rank - 1];
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) { inner--; run *= size[inner]; }
  // Now dims [0, inner) are iterated, run covers dims [inner, rank) starting at begin[inner].
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (;;) {
    let off = begin[inner] * strides[inner];
    for (let d = 0; d < inner; d++) off += (begin[d] + idx[d]) * strides[d];
    // A subarray view costs an allocation: short runs (a GRU's gate slices: 2 x 48 floats per row) copy faster by hand.
    if (run < SHORT_RUN) for (let j = 0; j < run; j++) ov[o + j] = xv[off + j];
    else ov.set(xv.subarray(off, off + run), o);
    o += run;
    let d = inner - 1;
    while (d >= 0) { if (++idx[d] < size[d]) break; idx[d] = 0; d--; }
    if (d < 0) break;
  }
  return out;
}

function sliceWasm({ inputs, backend, attrs }: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: { begin: number | number[]; size?: number | number[] } }): TensorInfo {
  const { x } = inputs;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
  if (x.dtype === 'string') throw new Error('Slice (wasm, ecg-monitor): string tensors are not supported');
  return sliceInto(backend, x, begin, size, size);
}

function unpackWasm({ inputs, backend, attrs }: { inputs: { value: TensorInfo }; backend: WasmBackendLike; attrs: { axis: number } }): TensorInfo[] {
  const { value } = inputs;
  const rank = value.shape.length;
  const axis = attrs.axis < 0 ? attrs.axis + rank : attrs.axis;
  const outShape = value.shape.filter((_, i) => i !== axis);
  const size = value.shape.slice();
  size[axis] = 1;
  const begin = new Array<number>(rank).fill(0);
  const outs: TensorInfo[] = [];
  for (let i = 0; i < value.shape[axis]; i++) {
    begin[axis] = i;
    outs.push(sliceInto(backend, value, begin, size, outShape));
  }
  return outs;
}

// ---------------------------------------------------------------------------------------------------------------
// MaxPoolGrad (NHWC): dx[b, xR, xC, d] += dy[b, yR, yC, d] where (xR, xC) is the first maximum of x in the window of
// output (yR, yC) — the cpu kernel's rule (strict '>' scan in row-major window order).
// ---------------------------------------------------------------------------------------------------------------
interface MaxPoolGradArgs {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  backend: WasmBackendLike;
  attrs: { filterSize: [number, number] | number; strides: [number, number] | number; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
}

export function maxPoolGradWasm({ inputs, backend, attrs }: MaxPoolGradArgs): TensorInfo {
  const { dy, input } = inputs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top, padLeft = info.padInfo.left;
  const acc = new Float32Array(batchSize * inHeight * inWidth * inChannels);
  const out = backend.makeOutput(input.shape, 'float32');
  const xv = backend.typedArrayFromHeap(input);
  const dyv = backend.typedArrayFromHeap(dy);
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      const r0 = yR * strideHeight - padTop;
      for (let yC = 0; yC < outWidth; yC++) {
        const c0 = yC * strideWidth - padLeft;
        const dyOff = ((b * outHeight + yR) * outWidth + yC) * inChannels;
        for (let d = 0; d < inChannels; d++) {
          let best = -Infinity, bestIndex = -1;
          for (let wR = 0; wR < effectiveFilterHeight; wR++) {
            const xR = r0 + wR;
            if (xR < 0 || xR >= inHeight) continue;
            for (let wC = 0; wC < effectiveFilterWidth; wC++) {
              const xC = c0 + wC;
              if (xC < 0 || xC >= inWidth) continue;
              const index = ((b * inHeight + xR) * inWidth + xC) * inChannels + d;
              if (xv[index] > best) { best = xv[index]; bestIndex = index; }
            }
          }
          if (bestIndex >= 0) acc[bestIndex] += dyv[dyOff + d];
        }
      }
    }
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}
