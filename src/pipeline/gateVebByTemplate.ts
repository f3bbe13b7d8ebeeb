import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatClassification } from '../types.js';
import { checkTemplateSize, correlation, MedianTemplate, regionIndices, TEMPLATE_REGIONS_MS } from './compareToTemplate.js';
import { overruleClass } from './overruleClass.js';

export interface GateVebByTemplateOptions {
  /** QRS correlation with the usual beat at or above which a V call is overruled. Default 0.98. */
  minCorrelation?: number;
  /** Past non-V windows the usual beat is the sample-wise median of. Default 32. */
  templateBeats?: number;
  /** Non-V windows needed before the gate acts. Default 8. */
  minBeats?: number;
}

/**
 * A V call whose QRS complex matches the stream's usual beat takes the most probable other class. A ventricular
 * beat is conducted through the ventricles by another path, so its QRS differs from the patient's own supraventricular
 * beats; much of what a network trained on other patients mistakes for V is a patient's usual beat that looks unusual
 * to it (bundle branch block, an odd axis). The usual beat is the sample-wise median of the last `templateBeats` clean
 * windows the model did *not* call V, so that runs of V beats cannot shape it (with all beats, true V beats of
 * V-rich records matched it). It is compared with the beats before it only (causal, no added latency); beats without a
 * window pass unchanged. The model's own class stays in `modelClass`, the correlation in `usualBeatQrsCorrelation`;
 * a class an earlier rule ruled out (an S call in AF) stays out (overruleClass.ts).
 *
 * The threshold was chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored (see
 * models/README.md): there V +P rose from 63.9 to 82.3 % and V Se fell from 90.6 to 89.3 %.
 */
export function gateVebByTemplate(options: GateVebByTemplateOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  const { minCorrelation = 0.98, templateBeats = 32, minBeats = 8 } = options;
  if (!(minCorrelation > -1 && minCorrelation <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `gateVebByTemplate: minCorrelation=${minCorrelation} must be in (-1, 1]`);
  checkTemplateSize('gateVebByTemplate', templateBeats, minBeats);
  return (beats$) => {
    const streams = new Map<string, MedianTemplate>();
    return beats$.pipe(
      map((beat) => {
        const window = beat.window;
        if (!window) return beat;
        let usual = streams.get(beat.streamId);
        if (!usual || usual.length !== window.samples.length) streams.set(beat.streamId, (usual = new MedianTemplate(templateBeats, window.samples.length)));
        let qrsCorrelation = NaN;
        if (usual.count >= minBeats) {
          const [from, to] = regionIndices(window, TEMPLATE_REGIONS_MS.qrs);
          qrsCorrelation = correlation(window.samples, usual.median(), from, to);
        }
        if (beat.beatClass !== 'V' && window.paddedSamples === 0 && window.samples.every(Number.isFinite)) usual.push(window.samples);
        const scored = { ...beat, usualBeatQrsCorrelation: qrsCorrelation };
        return beat.beatClass === 'V' && qrsCorrelation >= minCorrelation ? overruleClass(scored) : scored;
      }),
    );
  };
}
