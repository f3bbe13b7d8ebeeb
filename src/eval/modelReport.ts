/**
 * The model card's tables: every trained model scored by {@link evaluateBeats} — the same code as `eval beats` — on its
 * own protocol at reference positions and, for inter-patient AAMI models, end to end on whole DS2 records at the
 * beats the project's detector finds; one table per protocol (and positions) with its models side by side, each
 * column ending with the command that reproduces it.
 *
 * The beats come from an injectable {@link EvaluationSource}: by default MIT-BIH's cached datasets
 * ({@link prepareEvaluationInputs}, as `eval beats` builds them), in tests a few records of a temporary folder.
 *
 * References: ANSI/AAMI EC57:2012 (gross VEB/SVEB statistics); de Chazal P, O'Dwyer M, Reilly RB. Automatic
 * classification of heartbeats using ECG morphology and heartbeat interval features. IEEE TBME 2004;51(7):1196-1206
 * (inter-patient DS1/DS2 split and the literature's class map).
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type { BeatPositions } from '../dataset/extractBeats.js';
import type { Protocol } from '../dataset/splits.js';
import type { BeatDataset } from '../model/dataset.js';
import { loadManifest, type ModelManifest, type SplitMetrics } from '../model/modelIo.js';
import { loadClassifier } from '../model/predict.js';
import { packageRoot } from '../config.js';
import { ConfigError } from '../errors.js';
import { FEATURE_GROUPS } from '../pipeline/beatFeatures.js';
import { BEAT_CLASSES } from '../types.js';
import { evaluateBeats, type BeatsEvaluation, type TestSelection } from './beatsEvaluation.js';
import type { BeatClassSummary } from './beats.js';
import { formatInterval } from './bootstrap.js';
import { prepareEvaluationInputs, staleDatasetWarnings } from './evaluationInputs.js';

/** What a model is to be scored on. */
export interface EvaluationRequest {
  protocol: Protocol;
  positions: BeatPositions;
  /** Split seed from the model's manifest (`training.splitSeed`). */
  splitSeed?: number;
}

/** The beats of one evaluation, and how to ask `eval beats` for the same ones. */
export interface EvaluationSourceInputs {
  dataset: BeatDataset;
  /** Folder of the WFDB records (annotations, headers). */
  dir: string;
  test: TestSelection;
  /** `eval beats` flags (after `--model`) that select the same test, e.g. `['--positions', 'detector']`. */
  flags: string[];
  /** One line saying what the test set is. */
  description: string;
}

/** Where a report's beats come from (MIT-BIH by default; tests inject a few records). */
export interface EvaluationSource {
  inputs(request: EvaluationRequest): Promise<EvaluationSourceInputs>;
  /** Forget cached datasets (called between the reference-position and detector-position passes). */
  release?(): void;
}

export interface MitdbSourceOptions {
  env?: NodeJS.ProcessEnv;
  /** Another WFDB database instead of MIT-BIH: every beat of `records` is a test beat. */
  dir?: string;
  records?: 'all' | readonly string[];
  lead?: string;
  onRecord?: (done: number, total: number, record: string) => void;
}

const PROTOCOL_TITLES: Record<Protocol, string> = {
  inter: 'inter-patient (train DS1, test DS2, de Chazal 2004)',
  intra: 'intra-patient (stratified random 80/20 split of the AAMI beats)',
  seed: "seed protocol (the MSHAN notebook's: N L R A V resampled to 2,546 each, random 80/20 by beat)",
};

/**
 * The default source: the cached beat datasets of MIT-BIH (or of `dir`), built or reused as `eval beats` does. One
 * dataset per beat-position kind is kept in memory until {@link EvaluationSource.release}.
 */
export function mitdbSource(options: MitdbSourceOptions = {}): EvaluationSource {
  const { env = process.env, dir, records, lead = 'MLII', onRecord } = options;
  const cache = new Map<string, ReturnType<typeof prepareEvaluationInputs>>();
  return {
    async inputs(request) {
      const { protocol, positions, splitSeed } = request;
      // The dataset depends on the positions only; the test selection on the protocol too.
      const key = dir === undefined && positions === 'detector' ? 'detector' : positions;
      if (!cache.has(key)) cache.set(key, prepareEvaluationInputs({ protocol: dir === undefined && positions === 'detector' ? 'inter' : protocol, positions, dir, records, lead, env, onRecord }));
      const prepared = await cache.get(key)!;
      const test: TestSelection = dir === undefined && positions === 'reference' ? { kind: 'protocol', protocol, splitSeed } : prepared.test;
      const flags: string[] = [];
      if (dir !== undefined) {
        flags.push('--dir', dir);
        if (records !== undefined && records !== 'all') flags.push('--records', records.join(','));
      }
      if (lead !== 'MLII') flags.push('--lead', lead);
      if (positions === 'detector') flags.push('--positions', 'detector');
      const description = test.kind === 'protocol'
        ? `test split of the ${PROTOCOL_TITLES[test.protocol]}, beats at the reference annotations`
        : `${test.records.length} whole records${dir === undefined ? ' (DS2)' : ` of ${dir}`}, beats at ${positions === 'detector' ? "the project's detected R-peaks (end to end)" : 'the reference annotations'}`;
      return { dataset: prepared.dataset, dir: prepared.dir, test, flags, description };
    },
    release() {
      cache.clear();
    },
  };
}

/** What the report says about a model, from its manifest. */
export interface ReportModel {
  /** The model folder's name (the report's column header). */
  name: string;
  dir: string;
  /** How `eval beats --model` names it: the folder name under the package's models/, else the path. */
  modelArg: string;
  kind: string;
  protocol: Protocol;
  classes: string[];
  parameters: number;
  backend: string;
  usesRr: boolean;
  /** The features joined before the head, by group (describeFeatures), e.g. "9 rr + 5 template". */
  features: string;
  trainingSeconds?: number;
  epochsRun?: number;
  bestEpoch?: number;
  stoppedBy?: string;
  /** Set when the model was refit on training + validation beats (train --refit) after a search run. */
  refit?: { searchSeconds?: number; searchEpochsRun?: number; searchStoppedBy?: string };
  beatsPerMinute?: number;
  balance?: string;
  datasetHash: string;
  createdAt: string;
}

export interface ReportRun {
  model: string;
  protocol: Protocol;
  positions: BeatPositions;
  /** What the test set is. */
  description: string;
  /** The `ecg-monitor` command that prints the same figures. */
  command: string;
  evaluation: BeatsEvaluation;
  /** Confusion-matrix SVG written for this run. */
  plot?: string;
  /** What the reader must know beyond evaluateBeats's notes (e.g. a dataset other than the one the model was trained on). */
  warnings: string[];
}

export interface ModelReport {
  generatedAt: string;
  models: ReportModel[];
  runs: ReportRun[];
  /** Model folders left out, with why (no manifest yet: still training; unreadable). */
  skipped: { dir: string; reason: string }[];
}

export interface BuildModelReportOptions {
  /** Model folders to report. */
  modelDirs: readonly string[];
  /** Default {@link mitdbSource}(). */
  source?: EvaluationSource;
  /** Also score inter-patient AAMI models end to end (detector positions). Default true. */
  endToEnd?: boolean;
  /** Write `<model>-<positions>.svg` confusion matrices here. */
  plotsDir?: string;
  /** Where `eval beats --model NAME` looks (default the package's models/): models inside it are named by folder name in the commands, others by path. */
  modelsRoot?: string;
  /** Called before each run, for progress. */
  onRun?: (done: number, total: number, what: string) => void;
}

/** Model folders under `root` that hold a manifest.json, sorted (MSHAN first, then by name); the others as skipped. */
export async function findModelDirs(root: string): Promise<{ dirs: string[]; skipped: { dir: string; reason: string }[] }> {
  const entries = existsSync(root) ? await readdir(root, { withFileTypes: true }) : [];
  const dirs: string[] = [];
  const skipped: { dir: string; reason: string }[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = join(root, e.name);
    if (existsSync(join(dir, 'manifest.json')) && existsSync(join(dir, 'model.json'))) dirs.push(dir);
    else if (existsSync(join(dir, 'checkpoint'))) skipped.push({ dir, reason: 'no manifest.json yet (training in progress or interrupted)' });
  }
  return { dirs: sortModelDirs(dirs), skipped };
}

/** Column order: MSHAN, its no-RR ablation, then the baselines; by name within a kind. */
const NAME_PREFIX_ORDER = ['mshan-norr-', 'mshan-', 'cnn-', 'mlp-'];
const PREFIX_RANK = [1, 0, 2, 3];
function sortModelDirs(dirs: string[]): string[] {
  const rank = (d: string): number => {
    const i = NAME_PREFIX_ORDER.findIndex((p) => basename(d).startsWith(p));
    return i < 0 ? NAME_PREFIX_ORDER.length : PREFIX_RANK[i];
  };
  return [...dirs].sort((a, b) => rank(a) - rank(b) || basename(a).localeCompare(basename(b)));
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function describeModel(dir: string, manifest: ModelManifest, modelsRoot: string): ReportModel {
  const t = manifest.training;
  const inRoot = resolve(dir, '..') === resolve(modelsRoot);
  return {
    name: basename(resolve(dir)), dir, modelArg: inRoot ? basename(dir) : dir, kind: manifest.model, protocol: manifest.protocol as Protocol,
    classes: manifest.classes, parameters: manifest.parameters, backend: manifest.backend, usesRr: manifest.input.usesRr,
    features: describeFeatures(manifest.input.usesRr ? manifest.input.featureNames : [], manifest.input.usualBeat),
    trainingSeconds: num(t.totalSeconds), epochsRun: num(t.epochsRun), bestEpoch: num(t.bestEpoch), stoppedBy: str(t.stoppedBy),
    refit: describeRefit(t.refit),
    beatsPerMinute: num(t.beatsPerMinute), balance: str(t.balanceDescription), datasetHash: manifest.dataset.hash, createdAt: manifest.createdAt,
  };
}

function describeRefit(refit: unknown): ReportModel['refit'] {
  if (typeof refit !== 'object' || refit === null) return undefined;
  const r = refit as Record<string, unknown>;
  return { searchSeconds: num(r.totalSeconds), searchEpochsRun: num(r.epochsRun), searchStoppedBy: str(r.stoppedBy) };
}

/**
 * "8 rr + 5 template" style summary of a model's feature names, by FEATURE_GROUPS; names outside them listed; and the
 * usual beat when the model takes it as a second window channel (`train --usual-beat`).
 */
export function describeFeatures(names: readonly string[], usualBeat = false): string {
  const parts = Object.entries(FEATURE_GROUPS).flatMap(([group, members]) => {
    const n = names.filter((name) => members.includes(name)).length;
    return n > 0 ? [`${n} ${group}`] : [];
  });
  const other = names.filter((name) => !Object.values(FEATURE_GROUPS).some((members) => members.includes(name)));
  const all = [...parts, ...other, ...(usualBeat ? ['usual beat (2nd window channel)'] : [])];
  return all.length === 0 ? 'none' : all.join(' + ');
}

const isAami = (classes: readonly string[]): boolean => classes.join() === BEAT_CLASSES.join();

/**
 * Scores every model of `modelDirs` with {@link evaluateBeats}: on its own protocol at reference positions, and, when
 * `endToEnd` and the model is inter-patient with AAMI classes, at detector positions on whole test records. Runs at
 * reference positions come first, so that only one dataset is in memory at a time.
 */
export async function buildModelReport(options: BuildModelReportOptions): Promise<ModelReport> {
  const { modelDirs, source = mitdbSource(), endToEnd = true, plotsDir, modelsRoot = join(packageRoot(), 'models'), onRun } = options;
  const skipped: ModelReport['skipped'] = [];
  const models: ReportModel[] = [];
  for (const dir of modelDirs) {
    try {
      models.push(describeModel(dir, await loadManifest(dir), modelsRoot));
    } catch (error) {
      skipped.push({ dir, reason: (error as Error).message });
    }
  }
  const plan: { model: ReportModel; positions: BeatPositions }[] = [
    ...models.map((model) => ({ model, positions: 'reference' as const })),
    ...(endToEnd ? models.filter((m) => m.protocol === 'inter' && isAami(m.classes)).map((model) => ({ model, positions: 'detector' as const })) : []),
  ];
  const runs: ReportRun[] = [];
  let lastPositions: BeatPositions | undefined;
  for (const [k, { model, positions }] of plan.entries()) {
    if (lastPositions !== undefined && positions !== lastPositions) source.release?.();
    lastPositions = positions;
    onRun?.(k, plan.length, `${model.name} (${positions})`);
    const classifier = await loadClassifier(model.dir);
    try {
      const splitSeed = num(classifier.manifest.training.splitSeed);
      const inputs = await source.inputs({ protocol: model.protocol, positions, splitSeed });
      const evaluation = await evaluateBeats({ classifier, dataset: inputs.dataset, dir: inputs.dir, test: inputs.test });
      const command = ['ecg-monitor eval beats --model', shellWord(model.modelArg), ...inputs.flags.map(shellWord)].join(' ');
      const warnings = staleDatasetWarnings([classifier.manifest], inputs.dataset.hash, inputs.test);
      const run: ReportRun = { model: model.name, protocol: model.protocol, positions, description: inputs.description, command, evaluation, warnings };
      if (plotsDir) run.plot = await writePlot(plotsDir, run);
      runs.push(run);
    } finally {
      classifier.model.dispose();
    }
  }
  source.release?.();
  return { generatedAt: new Date().toISOString(), models, runs, skipped };
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function writePlot(plotsDir: string, run: ReportRun): Promise<string | undefined> {
  const e = run.evaluation;
  const m = e.ec57?.aami.gross.matrix;
  const confusion = e.classification?.confusion ?? (m ? e.classes.map((r) => e.classes.map((c) => m[r as 'N'][c as 'N'])) : undefined);
  if (!confusion) return undefined;
  const { confusionMatrixSvg } = await import('./confusionPlot.js');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(plotsDir, { recursive: true });
  const file = join(plotsDir, `${run.model}-${run.positions}.svg`);
  await writeFile(file, await confusionMatrixSvg(confusion, e.classes, `${run.model}: ${run.description}`));
  return file;
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

const DASH = '–';
/** A 0..1 fraction as a percentage with two decimals ("–" when undefined or NaN). */
export const formatFraction = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? DASH : (v * 100).toFixed(2));
/** A percentage with two decimals. */
export const formatPercent = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? DASH : v.toFixed(2));
/** An F1 score with four decimals. */
export const formatF1 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? DASH : v.toFixed(4));

/** The cell of one class: "Se / +P / F1" (Se and +P in %). */
export function classCell(m: SplitMetrics | undefined, cls: string): string {
  const s = m?.perClass[cls];
  if (!s) return DASH;
  return `${formatFraction(s.se)} / ${formatFraction(s.ppv)} / ${formatF1(s.f1)}`;
}

function grossCell(s: BeatClassSummary | undefined, what: 'veb' | 'sveb' | 'qrs'): string {
  if (!s) return DASH;
  return `${formatPercent(s.gross[what].sePercent)} / ${formatPercent(s.gross[what].ppPercent)}`;
}

function minutes(seconds: number | undefined): string {
  return seconds === undefined ? DASH : `${(seconds / 60).toFixed(1)} min`;
}

const GROUP_ORDER: { protocol: Protocol; positions: BeatPositions; title: string }[] = [
  { protocol: 'inter', positions: 'reference', title: 'Inter-patient (DS1 → DS2), beats at the reference annotations' },
  { protocol: 'inter', positions: 'detector', title: "Inter-patient (DS1 → DS2), end to end: beats found by the project's detector on whole DS2 records" },
  { protocol: 'intra', positions: 'reference', title: 'Intra-patient (random 80/20 by beat), beats at the reference annotations' },
  { protocol: 'seed', positions: 'reference', title: "Seed protocol (the MSHAN notebook's N L R A V, resampled, random 80/20)" },
];

export interface FormatReportOptions {
  /** Folder the Markdown is written to: plot links are made relative to it. */
  markdownDir?: string;
}

/**
 * The report as Markdown: one table per protocol (and beat positions), its models as columns, rows for per-class
 * Se / +P / F1, accuracy, macro F1, EC57 gross VEB and SVEB under the literature's and bxb's class maps (seed:
 * accuracy on the original, leaky test split and on its leakage-free part), parameters, training time and the
 * command that reproduces the column.
 */
export function formatModelReport(report: ModelReport, options: FormatReportOptions = {}): string {
  const out: string[] = [];
  const modelByName = new Map(report.models.map((m) => [m.name, m]));
  for (const group of GROUP_ORDER) {
    const runs = report.runs.filter((r) => r.protocol === group.protocol && r.positions === group.positions);
    if (runs.length === 0) continue;
    out.push(`### ${group.title}`, '');
    for (const d of new Set(runs.map((r) => r.description))) out.push(`Test set: ${d}.`);
    out.push('');
    const classes = runs[0].evaluation.classes;
    const rows: [string, (r: ReportRun) => string][] = [];
    rows.push(['test beats', (r) => r.evaluation.beats.toLocaleString('en-US')]);
    for (const c of classes) rows.push([`${c} Se / +P / F1`, (r) => classCell(r.evaluation.classification, c)]);
    const macro = runs[0].evaluation.classification?.macroClasses ?? [];
    if (group.protocol === 'seed') {
      rows.push(['accuracy %, original split (leaky)', (r) => formatFraction(r.evaluation.classification?.accuracy)]);
      rows.push(['accuracy %, leakage-free test beats', (r) => formatFraction(r.evaluation.classificationLeakFree?.accuracy)]);
      rows.push([`macro F1 (${macro.join(' ')}), leaky / leakage-free`, (r) => `${formatF1(r.evaluation.classification?.macroF1)} / ${formatF1(r.evaluation.classificationLeakFree?.macroF1)}`]);
      rows.push(['leakage-free test beats', (r) => (r.evaluation.classificationLeakFree?.count ?? 0).toLocaleString('en-US')]);
    } else {
      rows.push(['accuracy %', (r) => formatFraction(r.evaluation.classification?.accuracy)]);
      rows.push([`macro F1 (${macro.join(' ')})`, (r) => formatF1(r.evaluation.classification?.macroF1)]);
    }
    if (runs.some((r) => r.evaluation.ec57)) {
      if (group.positions === 'detector') rows.push(['QRS Se / +P (EC57)', (r) => grossCell(r.evaluation.ec57?.aami, 'qrs')]);
      rows.push(['VEB Se / +P, literature map', (r) => grossCell(r.evaluation.ec57?.aami, 'veb')]);
      rows.push(["VEB Se / +P, bxb's map", (r) => grossCell(r.evaluation.ec57?.bxb, 'veb')]);
      rows.push(['SVEB Se / +P, literature map', (r) => grossCell(r.evaluation.ec57?.aami, 'sveb')]);
      rows.push(["SVEB Se / +P, bxb's map", (r) => grossCell(r.evaluation.ec57?.bxb, 'sveb')]);
      if (runs.some((r) => r.evaluation.ec57?.bootstrap)) {
        const intervals = (r: ReportRun, beat: 'veb' | 'sveb') => {
          const b = r.evaluation.ec57?.bootstrap?.[beat];
          return b ? `${formatInterval(b.se)} / ${formatInterval(b.pp)}` : DASH;
        };
        rows.push(['VEB Se / +P, 95 % interval over patients', (r) => intervals(r, 'veb')]);
        rows.push(['SVEB Se / +P, 95 % interval over patients', (r) => intervals(r, 'sveb')]);
      }
    }
    // The model's own classes (`eval beats` with every --no-...-gate flag), where the rules after it ran.
    if (runs.some((r) => r.evaluation.modelAlone)) {
      rows.push(['model alone (no gates): macro F1', (r) => formatF1(r.evaluation.modelAlone?.classification?.macroF1)]);
      rows.push(['model alone: VEB Se / +P', (r) => grossCell(r.evaluation.modelAlone?.ec57, 'veb')]);
      rows.push(['model alone: SVEB Se / +P', (r) => grossCell(r.evaluation.modelAlone?.ec57, 'sveb')]);
    }
    const info = (r: ReportRun): ReportModel | undefined => modelByName.get(r.model);
    rows.push(['model kind', (r) => `${info(r)?.kind ?? DASH}${info(r)?.usesRr === false ? ' (no RR)' : ''}`]);
    rows.push(['features', (r) => info(r)?.features ?? DASH]);
    rows.push(['parameters', (r) => info(r)?.parameters.toLocaleString('en-US') ?? DASH]);
    rows.push(['training time', (r) => {
      const m = info(r);
      if (!m) return DASH;
      if (m.refit) {
        const total = m.trainingSeconds === undefined || m.refit.searchSeconds === undefined ? undefined : m.trainingSeconds + m.refit.searchSeconds;
        return `${minutes(total)}: search ${minutes(m.refit.searchSeconds)}, ${m.refit.searchEpochsRun ?? DASH} epochs (best ${m.bestEpoch ?? DASH}, stopped: ${m.refit.searchStoppedBy ?? DASH}), then refit on training + validation ${minutes(m.trainingSeconds)}, ${m.epochsRun ?? DASH} epochs, ${m.backend}`;
      }
      const epochs = m.epochsRun === undefined ? '' : `, ${m.epochsRun} epoch${m.epochsRun === 1 ? '' : 's'} (best ${m.bestEpoch ?? DASH}, stopped: ${m.stoppedBy ?? DASH})`;
      return `${minutes(m.trainingSeconds)}${epochs}, ${m.backend}`;
    }]);
    if (runs.some((r) => r.plot)) rows.push(['confusion matrix', (r) => (r.plot ? `[svg](${plotLink(r.plot, options.markdownDir)})` : DASH)]);
    rows.push(['reproduce', (r) => `\`${r.command}\``]);

    out.push(`| | ${runs.map((r) => r.model).join(' | ')} |`);
    out.push(`|---|${runs.map(() => '---:').join('|')}|`);
    for (const [label, cell] of rows) out.push(`| ${label} | ${runs.map((r) => cell(r).replace(/\|/g, '\\|')).join(' | ')} |`);
    out.push('');
    const notes = [...new Set(runs.flatMap((r) => [...r.warnings.map((w) => `**${w}**`), ...r.evaluation.notes].map((n) => `${r.model}: ${n}`)))];
    for (const n of notes) out.push(`- ${n}`);
    if (notes.length) out.push('');
  }
  out.push('Se, +P in %; F1 from 0 to 1. Per-class figures count each test beat once against its reference class.');
  if (report.runs.some((r) => r.evaluation.ec57)) {
    out.push('EC57 figures match beats as bxb does (150 ms); the literature map (de Chazal 2004) counts escape beats e, j as N, bxb\'s map counts e, j, n as SVEB.');
    if (report.runs.some((r) => r.evaluation.ec57?.bootstrap)) {
      out.push('Intervals over patients: percentile bootstrap of the literature map\'s gross figures, the test records resampled with replacement (2,000 draws, seed 1; src/eval/bootstrap.ts): how much the figure depends on which patients were tested.');
    }
  }
  if (report.skipped.length) {
    out.push('', 'Not reported:');
    for (const s of report.skipped) out.push(`- ${s.dir}: ${s.reason}`);
  }
  return out.join('\n') + '\n';
}

function plotLink(file: string, markdownDir: string | undefined): string {
  return markdownDir ? relative(resolve(markdownDir), resolve(file)).split('\\').join('/') : file;
}

/** Markers between which `eval report --update FILE` writes its tables (e.g. in models/README.md, the model card). */
export const REPORT_BEGIN = '<!-- BEGIN eval report: generated by `ecg-monitor eval report --update`, do not edit by hand -->';
export const REPORT_END = '<!-- END eval report -->';

/**
 * `text` with the part between {@link REPORT_BEGIN} and {@link REPORT_END} replaced by `markdown` (the markers kept);
 * when the markers are missing, `text` with both markers and `markdown` appended. Throws ConfigError on a BEGIN
 * without its END (or the reverse), so a hand-edited card is never half-overwritten.
 */
export function spliceReport(text: string, markdown: string): string {
  const begin = text.indexOf(REPORT_BEGIN.slice(0, 30));
  const end = text.indexOf(REPORT_END);
  const block = (): string => `${REPORT_BEGIN}\n\n${markdown.trimEnd()}\n\n${REPORT_END}`;
  if (begin < 0 && end < 0) return `${text.trimEnd()}${text.trim() ? '\n\n' : ''}${block()}\n`;
  if (begin < 0 || end < 0 || end < begin) {
    throw new ConfigError('ECG_ERR_USAGE', `eval report --update: the file has ${begin < 0 ? 'no BEGIN' : end < 0 ? 'no END' : 'END before BEGIN'} marker (${REPORT_BEGIN.slice(0, 30)}… / ${REPORT_END})`);
  }
  return text.slice(0, begin) + block() + text.slice(end + REPORT_END.length);
}
