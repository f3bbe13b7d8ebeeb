import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultDatasetDir } from '../../config.js';
import { PROTOCOLS, type Protocol } from '../../dataset/splits.js';
import { ConfigError } from '../../errors.js';
import { BACKEND_NAMES, MODEL_KINDS, usesRr, type BackendName, type ModelKind } from '../../model/names.js';
import type { Balance } from '../../model/train.js';
import { FEATURE_GROUPS } from '../../pipeline/beatFeatures.js';
import { commaList, helpFile, newCommand, nonNegativeInteger, positiveInteger, positiveNumber, type CliIo } from '../io.js';

/** Where `train` reads the dataset when --dataset is not given: env ECG_DATASET_DIR, else `dataset build`'s default output. */
export function trainDatasetDir(env: NodeJS.ProcessEnv): string {
  return env.ECG_DATASET_DIR ?? defaultDatasetDir('reference', env);
}

interface TrainFlags {
  model: ModelKind;
  protocol: Protocol;
  dataset: string;
  out?: string;
  epochs: number;
  batchSize: number;
  seed: number;
  learningRate: number;
  balance: Balance;
  perClass: number;
  maxOversample: number;
  majorityFactor: number;
  classQuota?: Record<string, number>;
  recordBalance?: number;
  augment?: boolean;
  augmentStretch?: number;
  windowNorm?: 'zscore' | 'scale';
  patience: number;
  keep: 'best' | 'last' | 'average';
  features?: string[];
  validation?: 'beats' | 'records';
  validationFold?: number;
  filters?: number;
  gruUnits?: number;
  secondStage?: number[];
  secondStageSkip?: boolean;
  maxMinutes: number;
  refit?: boolean;
  teacher?: string[];
  distillWeight: number;
  distillTemperature?: number;
  mixup?: number;
  usualBeat?: boolean;
  resume?: boolean;
  keepCheckpoints?: boolean;
  backend?: BackendName;
}

const unitInterval = (value: string): number => {
  const x = Number(value);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`must be a number in (0, 1], got "${value}"`);
  return x;
};
const exponentArg = (value: string): number => {
  const x = Number(value);
  if (!(value.trim() !== '' && x >= 0 && x <= 1)) throw new InvalidArgumentError(`must be a number from 0 to 1, got "${value}"`);
  return x;
};
const quotaArg = (value: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const [name, count] = part.split('=');
    const n = Number(count);
    if (!name || !Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected CLASS=COUNT,..., got "${value}"`);
    out[name.trim()] = n;
  }
  return out;
};
/** `--second-stage 3,5,7`: at least one kernel size, each a positive integer. */
const kernelList = (value: string): number[] => {
  const kernels = commaList(value).map(positiveInteger);
  if (kernels.length === 0) throw new InvalidArgumentError(`expected kernel sizes such as 3,5,7, got "${value}"`);
  return kernels;
};
const featureList = (value: string): string[] =>
  [...new Set(commaList(value).flatMap((name) => FEATURE_GROUPS[name] ?? [name]))];

/**
 * `ecg-monitor train`: trains a beat classifier on a dataset directory and writes `models/<name>/` (model.json,
 * weights.bin, manifest.json). Progress (epoch, loss, validation Se/+P per class, ETA) goes to stderr; the final
 * manifest summary (one JSON line) to stdout. Every flag maps to a {@link trainModel} option.
 */
export function trainCommand(io: CliIo): Command {
  const command = newCommand('train', io);
  return command
    .description('train a beat classifier (MSHAN or a baseline) on a dataset directory; writes models/<name>/')
    .addOption(new Option('--model <name>', 'the network').choices(MODEL_KINDS).default('mshan'))
    .addOption(new Option('--protocol <name>', 'the split of the beats').choices(PROTOCOLS).default('inter'))
    .option('--dataset <dir>', 'dataset directory (env ECG_DATASET_DIR overrides the `dataset build` output default)', trainDatasetDir(io.env))
    .option('--out <dir>', 'model directory to write (default: models/<model>-<protocol>)')
    .option('--epochs <n>', 'maximum epochs', positiveInteger, 40)
    .option('--batch-size <n>', 'beats per gradient step', positiveInteger, 64)
    .option('--seed <n>', 'seed of weights and sampling', nonNegativeInteger, 1)
    .option('--learning-rate <x>', 'Adam learning rate', positiveNumber, 1e-3)
    .addOption(new Option('--balance <how>', 'class imbalance (default: sampling; none for --protocol seed)').choices(['sampling', 'weights', 'none']))
    .option('--per-class <n>', 'balanced sampling: training beats drawn per class per epoch', positiveInteger, 4000)
    .option('--max-oversample <n>', 'balanced sampling: a class is repeated at most this many times per epoch', positiveInteger, 20)
    .option('--majority-factor <x>', 'balanced sampling: N beats per epoch as a multiple of --per-class', positiveNumber, 1)
    .option('--class-quota <list>', 'balanced sampling: beats per epoch per class, e.g. N=9000,S=3000,V=3000,F=400,Q=50 (overrides --per-class)', quotaArg)
    .option('--record-balance <exponent>', 'balanced sampling: a class\'s quota shared among records in proportion to their beats of the class to this power: 1 proportional, 0.5 square-root, 0 equal (default: 1)', exponentArg)
    .option('--augment', 'augment training windows: amplitude x[0.8, 1.2], shift up to 5 samples, noise 0.03 (seeded)')
    .option('--augment-stretch <fraction>', 'with --augment: also stretch each window in time about its R-peak by a factor in [1 - f, 1 + f], e.g. 0.1', positiveNumber)
    .addOption(new Option('--window-norm <how>', 'window normalisation: zscore (per beat) or scale (one global factor) (default: zscore for seed, scale otherwise)').choices(['zscore', 'scale']))
    .addOption(new Option('--validation <from>', 'inter-patient validation: beats (a share of DS1 beats) or records (DS1 records 118, 220, 223 held out) (default: beats)').choices(['beats', 'records']))
    .option('--validation-fold <k>', 'cross-validation: validate on the k-th tenth of the training beats (default 1), or with --validation records on the k-th of 5 groups of DS1 records (patient-wise)', positiveInteger)
    .option('--features <list>', `features joined before the head: groups (${Object.keys(FEATURE_GROUPS).join(', ')}) or names, comma-separated (default: all the dataset has)`, featureList)
    .option('--filters <n>', 'MSHAN: filters per convolution branch (default 16)', positiveInteger)
    .option('--gru-units <n>', 'MSHAN: GRU units (default 32)', positiveInteger)
    .option('--second-stage <kernels>', 'MSHAN: a second multi-scale stage after the pooling, its kernel sizes in pooled steps (12 samples), comma-separated, e.g. 3,5,7; filters / 2 per branch (default: none)', kernelList)
    .option('--second-stage-skip', 'with --second-stage: the attention block gets the first stage\'s pooled features beside the second stage\'s (default: the second stage\'s alone)')
    .option('--patience <n>', 'early stopping: epochs without a better validation macro F1', positiveInteger, 8)
    .addOption(new Option('--keep <epoch>', 'whose weights the model keeps: best (the best validation macro F1), last (the last epoch run, for a training length chosen by cross-validation) or average (the mean of the weights after every step of the last epoch run)').choices(['best', 'last', 'average']).default('best'))
    .option('--max-minutes <min>', 'start no epoch that would end after this many minutes', positiveNumber, 28)
    .option('--refit', 'after early stopping, train a fresh model on training + validation beats for the epochs and learning rates the search run chose')
    .option('--teacher <dirs>', 'distillation: trained model directories (comma-separated) whose mean probabilities join the training target; each trained with this run\'s protocol, features and training beats', commaList)
    .option('--distill-weight <x>', 'with --teacher: weight of the teachers\' mean probabilities in the target, the label getting 1 - x', unitInterval, 0.5)
    .option('--distill-temperature <t>', 'with --teacher: the student matches the teachers\' mean at this temperature, both softened as softmax(log p / t), that part of the loss scaled by t² (default 1)', positiveNumber)
    .option('--usual-beat', "give the network the stream's usual beat (the median of its last 32 clean beats, as the live monitor keeps it) beside each window, as a second input channel (default: off)")
    .option('--mixup <alpha>', 'blend each training batch with a shuffled copy of itself, inputs and targets alike, by a weight drawn from Beta(alpha, alpha), e.g. 0.2 (Zhang et al. 2018; default: off)', positiveNumber)
    .option('--resume', 'continue from OUT/checkpoint after an interruption')
    .option('--keep-checkpoints', 'keep OUT/checkpoint after the run')
    .addOption(new Option('--backend <name>', 'force a TensorFlow.js backend (default: env ECG_TF_BACKEND, else the best available)').choices(BACKEND_NAMES))
    .addHelpText('after', helpFile('train'))
    .action(async (flags: TrainFlags) => {
      if (flags.augmentStretch !== undefined && !flags.augment) throw new ConfigError('ECG_ERR_USAGE', 'train: --augment-stretch needs --augment');
      if (flags.secondStageSkip && !flags.secondStage) throw new ConfigError('ECG_ERR_USAGE', 'train: --second-stage-skip needs --second-stage');
      if (flags.augmentStretch !== undefined && flags.augmentStretch >= 0.5) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: --augment-stretch ${flags.augmentStretch} must be below 0.5`);
      if (flags.teacher && flags.teacher.length === 0) throw new ConfigError('ECG_ERR_USAGE', 'train: --teacher needs at least one model directory');
      checkTrainOptions(flags, (name) => command.getOptionValueSource(name) === 'cli');
      // TensorFlow.js loads only when a model is trained, not for every CLI start.
      const { initBackend } = await import('../../model/backend.js');
      const { trainModel, trainWithRefit } = await import('../../model/train.js');
      const backend = await initBackend(flags.backend, io.env);
      const outDir = flags.out ?? `models/${flags.model}-${flags.protocol}`;
      const stderr = io.stderr as { write(text: string): unknown; isTTY?: boolean };
      const result = await (flags.refit ? trainWithRefit : trainModel)({
        model: flags.model, protocol: flags.protocol, datasetDir: flags.dataset, outDir, epochs: flags.epochs, batchSize: flags.batchSize,
        seed: flags.seed, learningRate: flags.learningRate, balance: flags.balance, perClassPerEpoch: flags.perClass, maxOversample: flags.maxOversample, majorityFactor: flags.majorityFactor, classQuota: flags.classQuota, recordBalance: flags.recordBalance,
        augment: flags.augment ? { amplitude: 0.2, shiftSamples: 5, noise: 0.03, ...(flags.augmentStretch ? { stretch: flags.augmentStretch } : {}) } : undefined, windowNormalisation: flags.windowNorm, patience: flags.patience, keep: flags.keep,
        features: flags.features, interValidation: flags.validation, validationFold: flags.validationFold,
        size: flags.filters || flags.gruUnits || flags.secondStage ? { filters: flags.filters, gruUnits: flags.gruUnits, ...(flags.secondStage ? { secondStageKernels: flags.secondStage, ...(flags.secondStageSkip ? { secondStageSkip: true } : {}) } : {}) } : undefined,
        teachers: flags.teacher ? { dirs: flags.teacher, weight: flags.distillWeight, temperature: flags.distillTemperature } : undefined,
        mixup: flags.mixup !== undefined ? { alpha: flags.mixup } : undefined,
        usualBeat: flags.usualBeat,
        maxMinutes: flags.maxMinutes, resume: flags.resume ?? false, keepCheckpoints: flags.keepCheckpoints ?? false, progress: stderr,
      });
      const m = result.manifest;
      const summary = {
        outDir, model: m.model, protocol: m.protocol, backend, bestEpoch: result.bestEpoch, stoppedBy: result.stoppedBy,
        validationMacroF1: m.metrics.validation?.macroF1, testAccuracy: m.metrics.test?.accuracy, testMacroF1: m.metrics.test?.macroF1,
        testLeakFreeAccuracy: m.metrics.testLeakFree?.accuracy, beatsPerMinute: m.training.beatsPerMinute, totalSeconds: m.training.totalSeconds,
      };
      io.stdout.write(`${JSON.stringify(summary)}\n`);
      result.model.dispose();
    });
}

/**
 * Options that would be silently ignored in this combination are refused instead: a user who asked for them would
 * otherwise get a run (and a manifest) that does not do what the command line says.
 */
export function checkTrainOptions(flags: { model: ModelKind; protocol: Protocol; balance?: Balance; features?: string[] }, given: (option: string) => boolean): void {
  const refuse = (why: string): never => { throw new ConfigError('ECG_ERR_USAGE', `train: ${why}`); };
  if (given('distillWeight') && !given('teacher')) refuse('--distill-weight weighs the teachers\' probabilities: it needs --teacher');
  if (given('distillTemperature') && !given('teacher')) refuse('--distill-temperature softens the teachers\' probabilities: it needs --teacher');
  if (given('validation') && flags.protocol !== 'inter') refuse(`--validation chooses how DS1 validates the inter-patient protocol; the ${flags.protocol} protocol validates on a share of its training beats`);
  const balance = flags.balance ?? (flags.protocol === 'seed' ? 'none' : 'sampling');
  const sampling = ['classQuota', 'perClass', 'maxOversample', 'majorityFactor', 'recordBalance'].filter(given);
  if (balance !== 'sampling' && sampling.length > 0) {
    refuse(`${sampling.map((o) => `--${o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} set class-balanced sampling, but --balance is ${balance}${flags.balance === undefined ? ` (the ${flags.protocol} protocol's default)` : ''}`);
  }
  if (flags.features !== undefined && !usesRr(flags.model)) refuse(`--model ${flags.model} takes no features (the ablation without RR features); leave out --features`);
}