import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import { classifyBeat, type Classifier } from '../model/predict.js';
import { BEAT_CLASSES, type BeatClass, type BeatClassification, type BeatWindow } from '../types.js';
import { BEAT_FEATURE_COUNT, BEAT_FEATURE_NAMES, beatFeatureVector, featureColumns, selectColumns } from './beatFeatures.js';

/**
 * Classifies each beat window into the AAMI classes with a loaded model (see src/model/predict.ts), one beat at a
 * time as beats arrive: on one wasm thread a beat costs about 2 ms, far below the ~800 ms between beats, so batching
 * would only add latency. The features (RR, and the comparison with the stream's usual beat) are built by the same
 * function the training set used (beatFeatures.ts), and the model gets the ones its manifest names; a model trained
 * with `--usual-beat` also gets the stream's usual beat (compareToTemplate's, as in training).
 * Tensors are created and disposed inside the call: `tf.memory().numTensors` does not grow with the stream.
 *
 * ## Example
 * ```ts
 * const classifier = await loadClassifier('models/mshan-inter');
 * recordSource(dir, '100', { speed: 1 }).pipe(monitorPipeline(), classifyBeats(classifier)).subscribe(console.log);
 * ```
 * @param classifier a model directory loaded by loadClassifier; its classes must be the AAMI N S V F Q
 */
export function classifyBeats(classifier: Classifier): OperatorFunction<BeatWindow, BeatClassification> {
  const classes = classifier.manifest.classes;
  if (classes.length !== BEAT_CLASSES.length || classes.some((c, i) => c !== BEAT_CLASSES[i])) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `classifyBeats: ${classifier.dir} predicts ${classes.join(' ')}, not the AAMI classes ${BEAT_CLASSES.join(' ')}`);
  }
  const { input, name } = classifier.manifest;
  const columns = featureColumns(BEAT_FEATURE_NAMES, input.usesRr ? input.featureNames : [], `classifyBeats: ${classifier.dir}`);
  if (input.fsHz !== 360 || input.windowLength !== 360) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `classifyBeats: ${classifier.dir} expects ${input.windowLength}-sample windows at ${input.fsHz} Hz, the stream cuts 360 at 360 Hz`);
  }
  const model = name;
  return map((beat) => {
    const features = selectColumns(beatFeatureVector(beat), BEAT_FEATURE_COUNT, columns);
    const probabilities = Array.from(classifyBeat(classifier, beat.samples, features, input.usualBeat ? beat.usualBeat : undefined));
    let best = 0;
    for (let c = 1; c < probabilities.length; c++) if (probabilities[c] > probabilities[best]) best = c;
    return {
      streamId: beat.streamId, sampleIndex: beat.sampleIndex, fsHz: beat.fsHz,
      beatClass: BEAT_CLASSES[best] as BeatClass, probabilities, model,
      window: { samples: beat.samples, samplesBefore: beat.samplesBefore, paddedSamples: beat.paddedSamples, fsHz: beat.fsHz },
      rr: beat.rr,
    };
  });
}
