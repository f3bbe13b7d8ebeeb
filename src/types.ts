/**
 * The words of the pipeline, one type each. Data flows one way:
 * source -> SampleChunk -> (band-pass, resample) -> RPeak -> BeatWindow -> BeatClassification -> Alert/Attribution -> sinks.
 *
 * Positions are integer sample indices in the stream's own numbering at `fsHz`, never times:
 * a stream resampled to 360 Hz carries indices at 360 Hz, and `originalFsHz` says how to map them back.
 */

/** One lead's samples for a stretch of a stream, in mV. NaN marks a missing sample (gap, dropout, lead off). */
export interface LeadSamples {
  /** Lead name as the source knows it, e.g. `MLII`, `V5`, `I`. */
  lead: string;
  samples: Float32Array;
}

/** A contiguous run of samples from one stream. `samples` is the primary lead; `auxLeads`, if any, are time-aligned. */
export interface SampleChunk {
  /** Which stream (bed, device or record) these samples belong to, e.g. `mitdb/100`. */
  streamId: string;
  /** Index of `samples[0]` in the stream, counted at `fsHz` from the start of the stream. */
  startSample: number;
  /** Sampling rate of `samples`, Hz. */
  fsHz: number;
  /** Name of the primary lead. */
  lead: string;
  /** Primary lead, mV. */
  samples: Float32Array;
  /** Other leads of the same stretch, same length; stages that do not use them pass them through unchanged. */
  auxLeads?: readonly LeadSamples[];
}

/** One detected R-peak. */
export interface RPeak {
  streamId: string;
  /** Sample index of the R-peak (the extremum of the band-passed ECG), at `fsHz`. */
  sampleIndex: number;
  fsHz: number;
  /** Band-passed amplitude at the peak, mV (signed). */
  amplitudeMv: number;
  /** Index of the newest sample the detector had seen when it emitted this peak. */
  detectedAtSample: number;
  /** `detectedAtSample - sampleIndex`: how long after the R-peak the event was emitted, in samples. */
  latencySamples: number;
  /** Lead the peak was found on (differs from the chunk's primary lead when the detector fell back to another lead). */
  lead: string;
  /** True when the beat was recovered by search-back (threshold halved after a long RR), a weaker detection. */
  searchBack: boolean;
  /** Reference label, set only when the peak comes from (or was matched to) an annotated record: dataset building. */
  label?: BeatClass;
}

/** AAMI EC57 beat classes. */
export type BeatClass = 'N' | 'S' | 'V' | 'F' | 'Q';
export const BEAT_CLASSES: readonly BeatClass[] = ['N', 'S', 'V', 'F', 'Q'];

/** RR-interval features of one beat, in ms, computable on a live stream (see windowBeats). */
export interface RrFeatures {
  previousRrMs: number;
  nextRrMs: number;
  localMeanRrMs: number;
  recordMeanRrMs: number;
  /**
   * Mean absolute difference of successive RR intervals over the local window: high in atrial fibrillation, where a
   * short RR does not make a beat supraventricular ectopic.
   */
  localVariationRrMs: number;
}

/**
 * How one beat compares with its stream's recent usual beat (src/pipeline/compareToTemplate.ts); NaN when unknown
 * (too few beats yet, or a flat region).
 */
export interface TemplateFeatures {
  /** Pearson correlation with the template over the QRS complex (±80 ms). */
  qrsCorrelation: number;
  /** Over the P wave (250-70 ms before the R-peak). */
  pCorrelation: number;
  /** Over the T wave (110-420 ms after the R-peak). */
  tCorrelation: number;
  /** QRS peak-to-peak amplitude over the template's. */
  qrsAmplitudeRatio: number;
  /** RMS of beat minus template over the QRS, relative to the template's QRS peak-to-peak. */
  qrsResidual: number;
}

/** The samples around one R-peak, the classifier's input. */
export interface BeatWindow {
  streamId: string;
  /** Sample index of the R-peak at `fsHz`. */
  sampleIndex: number;
  fsHz: number;
  /** `samplesBefore + samplesAfter` samples, band-passed, mV; `samples[samplesBefore]` is the R-peak. */
  samples: Float32Array;
  samplesBefore: number;
  rr: RrFeatures;
  /** Comparison with the stream's usual beat, once compareToTemplate has run (monitorPipeline runs it). */
  template?: TemplateFeatures;
  /**
   * The stream's usual beat before this one (compareToTemplate's template, `samples.length` long; the beat's own samples
   * until the template holds enough beats), for models that take it as a second input channel.
   */
  usualBeat?: Float32Array;
  /** How many of `samples` were padded (window past the stream's start or end, or over a gap), 0 for a clean window. */
  paddedSamples: number;
  /** Copied from the RPeak: the reference label when the beat comes from an annotated record, else undefined. */
  label?: BeatClass;
}

/** A classified beat. */
export interface BeatClassification {
  streamId: string;
  sampleIndex: number;
  fsHz: number;
  beatClass: BeatClass;
  /** Softmax probabilities in BEAT_CLASSES order. */
  probabilities: readonly number[];
  model: string;
  /** The rhythm around this beat, once detectAtrialFibrillation has run. */
  rhythm?: RhythmAssessment;
  /** The model's own class, when a rule after the model (rulesAfterModel.ts) changed `beatClass`. */
  modelClass?: BeatClass;
  /**
   * The window the model saw (the BeatWindow's samples, not a copy), for rules that look at the beat again
   * (the gates of gateByUsualBeat.ts); classifyBeats sets it. Not part of any message on the wire.
   */
  window?: Pick<BeatWindow, 'samples' | 'samplesBefore' | 'paddedSamples' | 'fsHz'>;
  /** Classes the rules after the model ruled out for this beat (ruleOutClass.ts); absent when none did. */
  ruledOut?: readonly BeatClass[];
  /** QRS correlation with the stream's usual non-V beat at the best shift within QRS_MAX_LAG_MS, once gateVebByTemplate has run (NaN before its template exists). */
  usualBeatQrsCorrelation?: number;
  /** P-wave correlation with the stream's usual N beat, once gateSvebByPWave has run (NaN before its template exists). */
  usualBeatPCorrelation?: number;
  /** Share of V calls among the earlier beats of this beat's QRS shape, once gateVebByMorphology has run (NaN before the shape votes). */
  morphologyVShare?: number;
  /** The window's RR intervals (the BeatWindow's, not a copy), for rules that look at timing (gateVebByTiming); classifyBeats sets it. */
  rr?: RrFeatures;
}

/**
 * Irregularity of the RR intervals before a beat (src/pipeline/detectAtrialFibrillation.ts, after Dash et al. 2009).
 * NaN statistics and `atrialFibrillation: false` until the window is full.
 */
export interface RhythmAssessment {
  /** All three statistics inside their atrial-fibrillation range. */
  atrialFibrillation: boolean;
  /** RMSSD over the mean RR, outliers trimmed (AF above 0.1). */
  normalisedRmssd: number;
  /** Shannon entropy of a 16-bin RR histogram over ln 16, outliers trimmed (AF above 0.7). */
  shannonEntropy: number;
  /** Turning points of the RR series, as a z-score against a random series' expectation (AF within ±2). */
  turningPointZ: number;
}
