/** Names the CLI needs without loading TensorFlow.js (so `ecg-monitor --help` and other commands start fast). */
export type ModelKind = 'mshan' | 'mshan-norr' | 'cnn' | 'mlp';
export const MODEL_KINDS: readonly ModelKind[] = ['mshan', 'mshan-norr', 'cnn', 'mlp'];
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Whether a model kind takes the RR feature vector as its second input. */
export function usesRr(kind: ModelKind): boolean {
  return kind !== 'mshan-norr';
}
