/**
 * TensorFlow.js backend selection: the one place that decides where tensors live.
 *
 * Order of preference (issue 4, "Backends"):
 * 1. `@tensorflow/tfjs-node` — native libtensorflow, multi-threaded; an optional dependency that
 *    `npm install` silently drops when its libtensorflow download fails, so `import()` may throw
 *    MODULE_NOT_FOUND and we fall through.
 * 2. `@tensorflow/tfjs` on `@tensorflow/tfjs-backend-wasm` — loads offline (the .wasm files ship in the
 *    package's `dist/`), SIMD on, one thread under Node. Training needs the kernels registered by
 *    {@link registerWasmTrainingKernels} (Conv2DBackpropFilter is missing from tfjs 4.22); inference uses the fused
 *    GRU step kernels of {@link registerGruStepKernels}.
 * 3. `cpu` — pure JavaScript, 15–50x slower; the last resort and the reference for parity tests.
 *
 * `ECG_TF_BACKEND=tensorflow|wasm|cpu` forces one (an unavailable forced backend is an error, not a silent fallback).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.js';
import { log } from '../log.js';
import { registerGruStepKernels } from './gruStepKernels.js';
import { registerWasmTrainingKernels } from './wasmKernels.js';

export { tf };

import { BACKEND_NAMES, type BackendName } from './names.js';

export { BACKEND_NAMES, type BackendName };

let wasmRegistered = false;
let nodeTried: boolean | undefined;
/** Why each backend that failed to initialise did, for the user (`backendFailure`). */
const failures = new Map<BackendName, string>();

/** Why `name` could not be initialised here, once trySetBackend has failed on it; undefined otherwise. */
export function backendFailure(name: BackendName): string | undefined {
  return failures.get(name);
}

/** The directory holding tfjs-backend-wasm's `.wasm` binaries (its `dist/`), found through Node's resolver. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

async function tryTfjsNode(): Promise<boolean> {
  if (nodeTried !== undefined) return nodeTried;
  try {
    // A variable specifier keeps TypeScript from requiring the optional package's types at build time.
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier);
    nodeTried = true;
  } catch (error) {
    log.debug({ err: (error as Error).message }, 'tfjs-node not available');
    const code = (error as NodeJS.ErrnoException).code;
    failures.set('tensorflow', code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? 'the optional package @tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node; it needs libtensorflow)'
      : `@tensorflow/tfjs-node does not load: ${(error as Error).message.split('\n')[0]}`);
    nodeTried = false;
  }
  return nodeTried;
}

async function registerWasm(): Promise<void> {
  if (wasmRegistered) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmBinaryDir());
  // Threads need a blob: worker, which Node refuses; one thread it is (parallelism = worker_threads, one backend each).
  wasm.setThreadsCount?.(1);
  wasmRegistered = true;
}

/**
 * Keeps TensorFlow.js from writing to the console: stderr carries pino's JSON lines only, and tfjs prints plain text
 * through `console.warn` (the cpu backend's "Hi, looks like you are running TensorFlow.js in Node.js..." banner on its
 * first tensor, "backend already registered" notices). tfjs-core's `warn` and `log` (src/log.ts there) are silent when
 * its `PROD` flag is set, which is what `enableProdMode()` does; in tfjs 4.x the flag gates nothing but those messages.
 */
function silenceTfjsConsole(): void {
  if (!tf.env().getBool('PROD')) tf.enableProdMode();
}

/** Switches to `name`; resolves to false when that backend cannot be initialised here. */
export async function trySetBackend(name: BackendName): Promise<boolean> {
  silenceTfjsConsole();
  // engine().backendName, unlike getBackend(), does not auto-initialise the highest-priority backend (webgl fails on Node).
  if (tf.engine().backendName === name) return true;
  try {
    if (name === 'tensorflow' && !(await tryTfjsNode())) return false;
    if (name === 'wasm') await registerWasm();
    const ok = await tf.setBackend(name);
    if (!ok) {
      log.debug({ backend: name }, 'backend failed to initialise'); // tfjs's own warning about it is silenced
      failures.set(name, name === 'tensorflow'
        ? '@tensorflow/tfjs-node loads but its backend did not initialise (LOG_LEVEL=debug shows why)'
        : `the ${name} backend did not initialise (LOG_LEVEL=debug shows why)`);
      return false;
    }
    await tf.ready();
    if (name === 'wasm') {
      registerWasmTrainingKernels();
      registerGruStepKernels();
    }
    return tf.engine().backendName === name;
  } catch (error) {
    log.debug({ backend: name, err: (error as Error).message }, 'backend failed to initialise');
    failures.set(name, `the ${name} backend did not initialise: ${(error as Error).message.split('\n')[0]}`);
    return false;
  }
}

/** Which backends can be initialised on this machine (tries each; leaves the first available one active). */
export async function availableBackends(): Promise<BackendName[]> {
  const previous = tf.engine().backendName as BackendName | null;
  const out: BackendName[] = [];
  for (const name of BACKEND_NAMES) if (await trySetBackend(name)) out.push(name);
  if (previous && out.includes(previous)) await trySetBackend(previous);
  return out;
}

/**
 * Initialises TensorFlow.js on the best backend available (see the module comment) and logs the choice.
 * @param preferred backend to use; default: env `ECG_TF_BACKEND`, else the first of tensorflow, wasm, cpu that loads.
 * @returns the backend in use.
 */
export async function initBackend(preferred?: BackendName, env: NodeJS.ProcessEnv = process.env): Promise<BackendName> {
  const forced = preferred ?? (env.ECG_TF_BACKEND as BackendName | undefined);
  if (forced !== undefined && forced !== ('' as BackendName)) {
    if (!BACKEND_NAMES.includes(forced)) {
      throw new ModelError('ECG_ERR_MODEL', `unknown TensorFlow.js backend "${forced}" (expected ${BACKEND_NAMES.join(', ')})`);
    }
    if (!(await trySetBackend(forced))) {
      throw new ModelError('ECG_ERR_MODEL', `TensorFlow.js backend "${forced}" is not available on this machine`);
    }
    log.info({ backend: forced, forced: true }, 'tensorflow.js backend');
    return forced;
  }
  for (const name of BACKEND_NAMES) {
    if (await trySetBackend(name)) {
      log.info({ backend: name }, 'tensorflow.js backend');
      return name;
    }
  }
  throw new ModelError('ECG_ERR_MODEL', 'no TensorFlow.js backend could be initialised');
}
