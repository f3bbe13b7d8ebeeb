import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { resolveModelDir } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { BeatPositions } from '../../dataset/extractBeats.js';
import { PROTOCOLS, type Protocol } from '../../dataset/splits.js';
import type { BeatsEvaluation } from '../../eval/beatsEvaluation.js';
import type { ConfusionMatrix } from '../../eval/ec57.js';
import { bootstrapGrossOverRuns, formatComparison, formatGrossIntervals, pairedBootstrapGross, type PairedBootstrap, type RetrainingBootstrap } from '../../eval/bootstrap.js';
import { prepareEvaluationInputs, staleDatasetWarnings } from '../../eval/evaluationInputs.js';
import { monitorRules, type MonitorRules } from '../../pipeline/rulesAfterModel.js';
import { commaList, leadOption, newCommand, progressLine, recordsOption, type CliIo, type RecordsOption } from '../io.js';
import { addRuleOptions } from '../ruleOptions.js';

interface EvalBeatsFlags extends MonitorRules {
  model: string;
  protocol?: Protocol;
  positions: BeatPositions;
  dir?: string;
  records: RecordsOption;
  lead: string;
  out?: string;
  json?: string;
  plot?: string;
  against?: string;
  retrained?: string;
}

/** `ecg-monitor eval beats`: per-class Se/+P/F1 and EC57 VEB/SVEB of a trained classifier. */
export function evalBeatsCommand(io: CliIo): Command {
  const command = newCommand('beats', io)
    .description('score a beat classifier: confusion matrix, per-class Se/+P/F1, accuracy, macro F1, EC57 VEB and SVEB')
    .option('--model <name|dir>', 'model folder, or a name under models/; several, comma-separated, are scored as an ensemble (mean of their probabilities)', 'mshan-inter')
    .addOption(new Option('--protocol <name>', "test split (default: the model's own protocol)").choices([...PROTOCOLS]))
    .addOption(new Option('--positions <kind>', 'beats at the reference annotations, or found by the detector (end to end: whole DS2 records)').choices(['reference', 'detector']).default('reference'))
    .option('--dir <path>', 'evaluate every beat of another WFDB database (resampled to 360 Hz) instead of an MIT-BIH protocol')
    .option('--records <list>', "with --dir: 'all' (RECORDS) or comma-separated names", recordsOption, 'all')
    .option('--lead <name>', 'lead to classify, a name or a signal index (0, 1, ...): MLII where a record has it, else its first signal (with --dir, give the database\'s lead name)', 'MLII')
    .option('--out <dir>', 'write <record>.cls WFDB annotation files (readable by bxb), summary.json and confusion.svg here')
    .option('--json <file>', 'write the summary as JSON')
    .option('--plot <file>', 'write the confusion matrix as SVG (vega-lite)')
    .option('--against <name|dir>', 'also score this model on the same test records and rules, and print the paired 95 % intervals over patients of the difference in the EC57 gross figures (whole records only)')
    .option('--retrained <list>', "other runs of the model's recipe (other seeds), comma-separated: also score each, and print 95 % intervals over both the test patients and the retraining (whole records only)");
  return addRuleOptions(command)
    .addHelpText('after', '\nThe live monitor\'s rules after the model are replayed over each whole test record; all the --no-... flags: the model alone.\nWithout --dir the beats come from the MIT-BIH dataset of `dataset build` ($XDG_CACHE_HOME/ecg-monitor/datasets/mitdb-<positions>, built if missing); with --dir they are cached in datasets/<folder name>-<lead>-<positions>-<8 hex digits of its absolute path> and rebuilt when its records change.\n\nExamples:\n  ecg-monitor eval beats --model mshan-inter --out out/cls\n  ecg-monitor eval beats --model mshan-inter --positions detector\n  ecg-monitor eval beats --model mshan-intra --protocol intra --json intra.json\n  ecg-monitor eval beats --model cnn-inter --against mshan-inter   # paired over patients\n  ecg-monitor eval beats --model mshan-inter --retrained runs/seed-2,runs/seed-3   # over patients and seeds\n')
    .action(async (flags: EvalBeatsFlags) => {
      if (flags.protocol !== undefined && flags.dir !== undefined) throw new ConfigError('ECG_ERR_USAGE', 'eval beats: --protocol picks an MIT-BIH test split, --dir scores every beat of another database; give one');
      if (flags.dir === undefined && command.getOptionValueSource('records') === 'cli') throw new ConfigError('ECG_ERR_USAGE', 'eval beats: --records goes with --dir (an MIT-BIH protocol has its own test records)');
      const modelDirs = commaList(flags.model).map((name) => resolveModelDir(name));
      const retrainedDirs = flags.retrained ? commaList(flags.retrained).map((name) => resolveModelDir(name)) : [];
      if (flags.retrained && modelDirs.length > 1) throw new ConfigError('ECG_ERR_USAGE', 'eval beats --retrained: give one model, not an ensemble, with other runs of its recipe');
      if (retrainedDirs.length > 0) {
        const { checkRetrainingsOfOneRecipe } = await import('../../model/crossValidation.js');
        const { loadManifest } = await import('../../model/modelIo.js');
        checkRetrainingsOfOneRecipe(await Promise.all([...modelDirs, ...retrainedDirs].map(async (dir) => ({ dir, manifest: await loadManifest(dir) }))));
      }
      // TensorFlow.js and vega load here, not at CLI start-up, so other commands start in a tenth of the time.
      const [{ initBackend }, { loadClassifier }, { evaluateBeats }, { confusionMatrixSvg }] = await Promise.all([
        import('../../model/backend.js'), import('../../model/predict.js'), import('../../eval/beatsEvaluation.js'), import('../../eval/confusionPlot.js'),
      ]);
      await initBackend(undefined, io.env);
      const classifiers = await Promise.all(modelDirs.map((d) => loadClassifier(d)));
      const [classifier] = classifiers;
      const trainedOn = classifier.manifest.protocol as Protocol;
      // Every other protocol's test split holds beats this model trained on (inter's DS2 is in intra's training
      // pool, intra's test beats come from DS1 too), so a score there would be inflated, not merely different.
      if (flags.protocol !== undefined && flags.protocol !== trainedOn) {
        throw new ConfigError('ECG_ERR_BAD_OPTION', `eval beats: ${classifier.manifest.name} was trained on the ${trainedOn} protocol's training beats, which the ${flags.protocol} test split overlaps; score it on --protocol ${trainedOn}, or on another database with --dir`);
      }
      const protocol = trainedOn;
      const positions = flags.positions;

      const splitSeed = classifier.manifest.training.splitSeed;
      const { dir, datasetDir: datasetOut, dataset, test, reused } = await prepareEvaluationInputs({
        protocol, positions, splitSeed: typeof splitSeed === 'number' ? splitSeed : undefined, lead: leadOption(flags.lead), env: io.env,
        dir: flags.dir, records: flags.records,
        onRecord: (done, total, record) => progressLine(io, `beats of ${record} (${done}/${total})`),
      });
      if (!reused && io.stderr.isTTY) io.stderr.write('\n');
      let evaluation: BeatsEvaluation;
      try {
        evaluation = await evaluateBeats({ classifier: classifiers, dataset, dir, test, outDir: flags.out, ...monitorRules(flags) });
      } finally {
        classifiers.forEach((c) => c.model.dispose());
      }
      evaluation.notes.unshift(...staleDatasetWarnings(classifiers.map((c) => c.manifest), dataset.hash, test));
      // Another model on the same test beats and rules, loaded only for its turn.
      const scoreOther = async (modelDir: string): Promise<BeatsEvaluation> => {
        const other = await loadClassifier(modelDir);
        try {
          return await evaluateBeats({ classifier: other, dataset, dir, test, ...monitorRules(flags) });
        } finally {
          other.model.dispose();
        }
      };
      let comparison: PairedBootstrap & { against: string } | undefined;
      if (flags.against) {
        const against = await scoreOther(resolveModelDir(flags.against));
        comparison = { against: against.model, ...pairedComparison(evaluation, against) };
      }
      let retraining: RetrainingBootstrap & { models: string[] } | undefined;
      if (retrainedDirs.length > 0) {
        const runs = [evaluation];
        for (const retrainedDir of retrainedDirs) runs.push(await scoreOther(retrainedDir));
        retraining = { models: runs.map((r) => r.model), ...bootstrapGrossOverRuns(runs.map((r) => wholeRecordMatrices('--retrained', evaluation, r))) };
      }

      io.stdout.write(formatEvaluation(evaluation, positions));
      if (comparison) io.stdout.write(formatComparison(evaluation.model, comparison));
      if (retraining) io.stdout.write(formatRetraining(retraining));
      const summary = JSON.stringify({ ...evaluation, ...(comparison ? { comparison } : {}), ...(retraining ? { retraining } : {}), positions, modelDir: modelDirs.join(','), dataset: { dir: datasetOut, hash: dataset.hash } }, null, 2) + '\n';
      const confusion = evaluation.classification?.confusion ?? ec57Confusion(evaluation);
      const svg = confusion ? await confusionMatrixSvg(confusion, evaluation.classes, `${evaluation.model}: ${describeTest(evaluation, positions)}`) : undefined;
      if (flags.out) {
        await mkdir(flags.out, { recursive: true });
        await writeFile(join(flags.out, 'summary.json'), summary);
        if (svg) await writeFile(join(flags.out, 'confusion.svg'), svg);
      }
      if (flags.json) await writeText(flags.json, summary);
      if (flags.plot && svg) await writeText(flags.plot, svg);
    });
}

async function writeText(file: string, text: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, text);
}

function describeTest(e: BeatsEvaluation, positions: BeatPositions): string {
  const what = e.test.kind === 'protocol' ? `${e.test.protocol} protocol test split` : `${e.test.records.length} whole records`;
  return `${what}, beats at ${positions === 'detector' ? 'detected R-peaks' : 'reference annotations'}`;
}

/** The AAMI confusion of the EC57 scoring (matched beats), for runs with no per-beat labels. */
function ec57Confusion(e: BeatsEvaluation): number[][] | undefined {
  const m = e.ec57?.aami.gross.matrix;
  return m ? e.classes.map((r) => e.classes.map((c) => m[r as 'N'][c as 'N'])) : undefined;
}

/** The paired bootstrap of two evaluations of the same whole records (see pairedBootstrapGross). */
function pairedComparison(first: BeatsEvaluation, second: BeatsEvaluation): PairedBootstrap {
  return pairedBootstrapGross(wholeRecordMatrices('--against', first, first), wholeRecordMatrices('--against', first, second));
}

/** `run`'s per-record EC57 matrices, checked to be of whole test records and of the same records as `first`'s. */
function wholeRecordMatrices(option: string, first: BeatsEvaluation, run: BeatsEvaluation): ConfusionMatrix[] {
  const a = first.ec57?.perRecord, b = run.ec57?.perRecord;
  if (!a || !b || (first.test.kind === 'protocol' && first.test.protocol !== 'inter')) {
    throw new ConfigError('ECG_ERR_USAGE', `eval beats ${option}: intervals over patients need whole test records scored by EC57 (the inter-patient protocol, or --dir)`);
  }
  if (a.map((r) => r.record).join() !== b.map((r) => r.record).join()) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `eval beats ${option}: ${first.model} and ${run.model} were scored on different records`);
  }
  return b.map((r) => r.matrix);
}

/** The intervals over patients and retraining, then each run's own gross figures. */
export function formatRetraining(r: RetrainingBootstrap & { models: string[] }): string {
  const lines = ['', `literature map, ${Math.round(r.level * 100)} % intervals over patients and retraining (${r.runs} runs of the recipe; each draw takes one run and resamples the ${r.records} test records, ${r.iterations} draws):`];
  lines.push(`  ${formatGrossIntervals(r)}`);
  lines.push('run                              VEB Se   VEB +P  SVEB Se  SVEB +P');
  r.perRun.forEach((f, i) => lines.push(`${r.models[i].slice(0, 30).padEnd(30)} ${[f.vebSe, f.vebPp, f.svebSe, f.svebPp].map((v) => ` ${pct(v)}  `).join('').trimEnd()}`));
  return lines.join('\n') + '\n';
}

const pct = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '     -' : v.toFixed(2).padStart(6));

/** The table people read: per-class figures, then EC57's gross statistics under both class maps. */
export function formatEvaluation(e: BeatsEvaluation, positions: BeatPositions): string {
  const lines = [`${e.model} on ${describeTest(e, positions)}: ${e.beats} test beats`];
  const table = (title: string, m: NonNullable<BeatsEvaluation['classification']>): void => {
    lines.push('', title, 'class  support    Se %    +P %      F1');
    for (const c of e.classes) {
      const s = m.perClass[c];
      lines.push(`${c.padEnd(5)} ${String(s.support).padStart(8)}  ${pct(s.se * 100)}  ${pct(s.ppv * 100)}  ${Number.isNaN(s.f1) ? '     -' : s.f1.toFixed(4)}`);
    }
    lines.push(`accuracy ${(m.accuracy * 100).toFixed(2)} %, macro F1 (${m.macroClasses.join(' ')}) ${m.macroF1.toFixed(4)}`);
    lines.push('confusion matrix (rows: reference class, columns: class given):', `      ${e.classes.map((c) => c.padStart(8)).join('')}`);
    e.classes.forEach((c, r) => lines.push(`${c.padEnd(5)} ${m.confusion[r].map((n) => String(n).padStart(8)).join('')}`));
  };
  if (e.classification) table('per beat (reference class of each test beat):', e.classification);
  if (e.classificationLeakFree) table('per beat, test beats that do not also occur in training:', e.classificationLeakFree);
  if (e.ec57) {
    lines.push('', 'EC57 gross (bxb matching, 150 ms)   QRS Se   QRS +P   VEB Se   VEB +P  SVEB Se  SVEB +P');
    for (const [name, s] of [['literature map (e, j as N)', e.ec57.aami], ["bxb's map (e, j, n as S)", e.ec57.bxb]] as const) {
      const g = s.gross;
      lines.push(`${name.padEnd(35)} ${[g.qrs.sePercent, g.qrs.ppPercent, g.veb.sePercent, g.veb.ppPercent, g.sveb.sePercent, g.sveb.ppPercent].map((v) => ` ${pct(v)}  `).join('')}`);
    }
    const b = e.ec57.bootstrap;
    if (b) {
      lines.push(`literature map, ${Math.round(b.level * 100)} % intervals over patients (the ${b.records} test records resampled, ${b.iterations} draws):`);
      lines.push(`  ${formatGrossIntervals(b)}`);
    }
  }
  for (const note of e.notes) lines.push(note.startsWith('warning: ') ? note : `note: ${note}`);
  return lines.join('\n') + '\n';
}
