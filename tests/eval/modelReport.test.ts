import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { ConfigError } from '../../src/errors.js';
import { buildDataset } from '../../src/dataset/buildDataset.js';
import { evaluateBeats, type BeatsEvaluation } from '../../src/eval/beatsEvaluation.js';
import { grossFigures, type GrossFigures, type PairedBootstrap, type RetrainingBootstrap } from '../../src/eval/bootstrap.js';
import { buildModelReport, describeFeatures, findModelDirs, formatModelReport, REPORT_BEGIN, REPORT_END, spliceReport, type EvaluationSource, type ModelReport } from '../../src/eval/modelReport.js';
import { trySetBackend } from '../../src/model/backend.js';
import { loadDataset, syntheticDataset, writeDataset, type BeatDataset } from '../../src/model/dataset.js';
import { loadManifest } from '../../src/model/modelIo.js';
import { loadClassifier } from '../../src/model/predict.js';
import { metricsFromConfusion, trainModel } from '../../src/model/train.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';

/** Cells of the Markdown table row whose label is `label`, in the table that follows `heading`. */
function tableRow(markdown: string, heading: string, label: string): string[] {
  const lines = markdown.split('\n');
  let i = lines.findIndex((l) => l.startsWith('### ') && l.includes(heading));
  expect(i, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  for (i++; i < lines.length && !lines[i].startsWith('### '); i++) {
    const cells = lines[i].split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    if (cells[0] === label) return cells.slice(1);
  }
  throw new Error(`no row "${label}" under "${heading}"`);
}

const pct = (v: number): string => (Number.isNaN(v) ? '–' : (v * 100).toFixed(2));
const f1 = (v: number): string => (Number.isNaN(v) ? '–' : v.toFixed(4));
const pp = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(2));

/**
 * The report must show exactly what evaluateBeats (the code of `eval beats`) computes, one column per model.
 * Two tiny models (a 1-D CNN and an MLP, one epoch on synthetic beats: poor but varied answers) are scored on the
 * whole of MIT-BIH records 100 and 232 copied to a temporary folder, through an injected evaluation source.
 */
describe.skipIf(skipWithoutMitdb())('eval report (MIT-BIH 100, 232 and two tiny models)', () => {
  let work: string;
  let db: string;
  let modelsDir: string;
  let dataset: BeatDataset;
  const records = ['100', '232'];
  const names = ['mlp-inter', 'cnn-inter'];
  let source: EvaluationSource;
  let report: ModelReport;
  let direct: Map<string, BeatsEvaluation>;

  beforeAll(async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    work = await mkdtemp(join(tmpdir(), 'ecg-evalreport-'));
    modelsDir = join(work, 'models');
    await writeDataset(join(work, 'synthetic'), syntheticDataset({ beatsPerRecord: 8, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 5 }));
    for (const name of names) {
      const r = await trainModel({ model: name.startsWith('cnn') ? 'cnn' : 'mlp', protocol: 'inter', datasetDir: join(work, 'synthetic'), outDir: join(modelsDir, name), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6 });
      r.model.dispose();
    }
    // Another seed of cnn-inter's recipe, for eval beats --retrained.
    const retrained = await trainModel({ model: 'cnn', protocol: 'inter', datasetDir: join(work, 'synthetic'), outDir: join(work, 'other', 'cnn-inter-seed-2'), epochs: 1, batchSize: 16, perClassPerEpoch: 30, maxMinutes: 1e6, seed: 2 });
    retrained.model.dispose();
    const seed = await trainModel({ model: 'mlp', protocol: 'seed', datasetDir: join(work, 'synthetic'), outDir: join(work, 'other', 'mlp-seed'), epochs: 1, batchSize: 16, maxMinutes: 1e6 });
    seed.model.dispose();
    await mkdir(join(modelsDir, 'mshan-inter', 'checkpoint'), { recursive: true }); // a model still training
    db = join(work, 'db');
    for (const r of records) for (const ext of ['hea', 'dat', 'atr']) await cp(join(MITDB_DIR, `${r}.${ext}`), join(db, `${r}.${ext}`));
    await buildDataset({ dir: db, records, out: join(work, 'beats') });
    dataset = await loadDataset(join(work, 'beats'));
    let released = 0;
    source = {
      inputs: async () => ({ dataset, dir: db, test: { kind: 'records', records }, flags: ['--dir', db], description: 'MIT-BIH 100 and 232, whole records' }),
      release: () => void released++,
    };
    const { dirs, skipped } = await findModelDirs(modelsDir);
    expect(skipped.map((s) => s.dir)).toEqual([join(modelsDir, 'mshan-inter')]);
    report = await buildModelReport({ modelDirs: dirs, source, plotsDir: join(work, 'plots'), modelsRoot: modelsDir, endToEnd: false });
    report.skipped.push(...skipped);
    expect(released).toBe(1);
    direct = new Map();
    for (const name of names) {
      const classifier = await loadClassifier(join(modelsDir, name));
      direct.set(name, await evaluateBeats({ classifier, dataset, dir: db, test: { kind: 'records', records } }));
      classifier.model.dispose();
    }
  }, 120_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('finds the trained models (CNN before MLP), skips the one without a manifest', () => {
    expect(report.models.map((m) => m.name)).toEqual(['cnn-inter', 'mlp-inter']);
    expect(report.runs.map((r) => `${r.model} ${r.positions}`)).toEqual(['cnn-inter reference', 'mlp-inter reference']);
  });

  it('every figure of the Markdown equals evaluateBeats\'s own output, one column per model', async () => {
    const md = formatModelReport(report);
    const heading = 'Inter-patient (DS1 → DS2), beats at the reference annotations';
    const header = md.split('\n').find((l) => l.startsWith('| |'))!;
    expect(header).toBe('| | cnn-inter | mlp-inter |');
    const order = ['cnn-inter', 'mlp-inter'];
    const e = order.map((n) => direct.get(n)!);
    expect(tableRow(md, heading, 'test beats')).toEqual(e.map((x) => x.beats.toLocaleString('en-US')));
    for (const c of ['N', 'S', 'V', 'F', 'Q']) {
      expect(tableRow(md, heading, `${c} Se / +P / F1`)).toEqual(e.map((x) => {
        const s = x.classification!.perClass[c];
        return `${pct(s.se)} / ${pct(s.ppv)} / ${f1(s.f1)}`;
      }));
    }
    expect(tableRow(md, heading, 'accuracy %')).toEqual(e.map((x) => pct(x.classification!.accuracy)));
    // macro F1 over N S V F, less the classes these two records lack (F: none in 100 and 232)
    expect(e[0].classification!.macroClasses).toEqual(['N', 'S', 'V']);
    expect(tableRow(md, heading, 'macro F1 (N S V)')).toEqual(e.map((x) => f1(x.classification!.macroF1)));
    for (const [label, map, what] of [['VEB Se / +P, literature map', 'aami', 'veb'], ["VEB Se / +P, bxb's map", 'bxb', 'veb'], ['SVEB Se / +P, literature map', 'aami', 'sveb'], ["SVEB Se / +P, bxb's map", 'bxb', 'sveb']] as const) {
      expect(tableRow(md, heading, label)).toEqual(e.map((x) => `${pp(x.ec57![map].gross[what].sePercent)} / ${pp(x.ec57![map].gross[what].ppPercent)}`));
    }
    // The model alone, as `eval beats` scores it with every --no-...-gate flag.
    const alone = await Promise.all(order.map(async (name) => {
      const classifier = await loadClassifier(join(modelsDir, name));
      try {
        return await evaluateBeats({ classifier, dataset, dir: db, test: { kind: 'records', records }, afGate: false, templateGate: false, timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false });
      } finally {
        classifier.model.dispose();
      }
    }));
    expect(tableRow(md, heading, 'model alone (no gates): macro F1')).toEqual(alone.map((x) => f1(x.classification!.macroF1)));
    for (const [label, what] of [['model alone: VEB Se / +P', 'veb'], ['model alone: SVEB Se / +P', 'sveb']] as const) {
      expect(tableRow(md, heading, label)).toEqual(alone.map((x) => `${pp(x.ec57!.aami.gross[what].sePercent)} / ${pp(x.ec57!.aami.gross[what].ppPercent)}`));
    }
    // The two models answer differently, so a column mix-up could not pass.
    expect(e[0].classification!.confusion).not.toEqual(e[1].classification!.confusion);
    for (const [k, name] of order.entries()) {
      const manifest = await loadManifest(join(modelsDir, name));
      expect(tableRow(md, heading, 'parameters')[k]).toBe(manifest.parameters.toLocaleString('en-US'));
      expect(tableRow(md, heading, 'features')[k]).toBe('8 rr'); // the synthetic dataset's 8 RR features
      expect(tableRow(md, heading, 'training time')[k]).toMatch(new RegExp(`^${((manifest.training.totalSeconds as number) / 60).toFixed(1)} min, 1 epoch \\(best 1, stopped: epochs\\), wasm$`));
      expect(tableRow(md, heading, 'reproduce')[k]).toBe(`\`ecg-monitor eval beats --model ${name} --dir ${db}\``);
    }
    expect(md).toContain(`${join(modelsDir, 'mshan-inter')}: no manifest.json yet`);
  });

  it('writes one confusion-matrix SVG per run, with the per-beat counts', async () => {
    for (const run of report.runs) {
      const svg = await readFile(run.plot!, 'utf8');
      expect(svg).toMatch(/^<svg/);
      const n = direct.get(run.model)!.classification!.confusion[0][0];
      expect(svg).toContain(`>${n}<`); // vega-lite's default text format: no thousands separator
    }
  });

  it('runs from the CLI (--dir, --models, --json, --markdown) with the same figures', async () => {
    let err = '';
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: { MITDB_DIR, XDG_CACHE_HOME: join(work, 'cache'), ECG_TF_BACKEND: 'wasm' } };
    const json = join(work, 'report.json');
    const mdFile = join(work, 'report.md');
    const cardFile = join(work, 'card', 'README.md');
    await mkdir(join(work, 'card'));
    await writeFile(cardFile, '# Card\n\nprose\n');
    const code = await main(['eval', 'report', '--models-dir', modelsDir, '--models', `mlp-inter,${join(work, 'other', 'mlp-seed')}`, '--dir', db, '--records', records.join(','), '--json', json, '--markdown', mdFile, '--update', cardFile], io);
    expect(code, err).toBe(0);
    const fromCli = JSON.parse(await readFile(json, 'utf8')) as ModelReport;
    expect(fromCli.runs.map((r) => r.model)).toEqual(['mlp-inter', 'mlp-seed']);
    const e = direct.get('mlp-inter')!;
    expect(fromCli.runs[0].evaluation.classification!.confusion).toEqual(e.classification!.confusion);
    expect(fromCli.runs[0].evaluation.ec57!.aami.gross.veb).toEqual(e.ec57!.aami.gross.veb);
    expect(fromCli.runs[0].command).toBe(`ecg-monitor eval beats --model ${join(modelsDir, 'mlp-inter')} --dir ${db} --records 100,232`);
    // A model folder that does not exist is a usage error (exit 2), named in the message.
    let usage = '';
    const badIo: CliIo = { ...io, stderr: { write: (s: string) => (usage += s) } };
    expect(await main(['eval', 'report', '--models-dir', modelsDir, '--models', 'nowhere', '--dir', db], badIo)).toBe(2);
    expect(usage).toMatch(/--models: no model folder .*nowhere.*ECG_ERR_USAGE/);
    const md = await readFile(mdFile, 'utf8');
    // --update wrote the same tables between the markers of the card, prose kept
    expect(await readFile(cardFile, 'utf8')).toBe(`# Card\n\nprose\n\n${REPORT_BEGIN}\n\n${md.trimEnd()}\n\n${REPORT_END}\n`);
    expect(tableRow(md, 'Inter-patient', 'accuracy %')).toEqual([pct(e.classification!.accuracy)]);
    // A seed model (N L R A V) on whole records: per-beat labels from the beats' symbols, no leakage-free subset.
    const classifier = await loadClassifier(join(work, 'other', 'mlp-seed'));
    const seedDirect = await evaluateBeats({ classifier, dataset, dir: db, test: { kind: 'records', records } });
    classifier.model.dispose();
    expect(fromCli.runs[1].evaluation.classification!.confusion).toEqual(seedDirect.classification!.confusion);
    expect(tableRow(md, 'Seed protocol', 'accuracy %, original split (leaky)')).toEqual([pct(seedDirect.classification!.accuracy)]);
    expect(tableRow(md, 'Seed protocol', 'accuracy %, leakage-free test beats')).toEqual(['–']);
    expect(tableRow(md, 'Seed protocol', 'reproduce')).toEqual([`\`ecg-monitor eval beats --model ${join(work, 'other', 'mlp-seed')} --dir ${db} --records 100,232\``]);
  }, 60_000);

  it('eval beats --against and --retrained score the other models on the same records: their figures are evaluateBeats\'s own', async () => {
    let out = '', err = '';
    const io: CliIo = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => (err += s) }, env: { MITDB_DIR, XDG_CACHE_HOME: join(work, 'cache'), ECG_TF_BACKEND: 'wasm' } };
    const [cnn, mlp, cnnSeed2] = [join(modelsDir, 'cnn-inter'), join(modelsDir, 'mlp-inter'), join(work, 'other', 'cnn-inter-seed-2')];
    const json = join(work, 'beats-retrained.json');
    const code = await main(['eval', 'beats', '--model', cnn, '--dir', db, '--records', records.join(','), '--against', mlp, '--retrained', cnnSeed2, '--json', json], io);
    expect(code, err).toBe(0);
    const summary = JSON.parse(await readFile(json, 'utf8')) as BeatsEvaluation & { comparison: PairedBootstrap; retraining: RetrainingBootstrap & { models: string[] } };
    const gross = (name: string): GrossFigures => grossFigures(direct.get(name)!.ec57!.perRecord.map((r) => r.matrix));
    expect(gross('cnn-inter'), 'two models that answer differently').not.toEqual(gross('mlp-inter'));
    expect(summary.comparison.first).toEqual(gross('cnn-inter'));
    expect(summary.comparison.second).toEqual(gross('mlp-inter'));
    const classifier = await loadClassifier(cnnSeed2);
    const seed2 = await evaluateBeats({ classifier, dataset, dir: db, test: { kind: 'records', records } });
    classifier.model.dispose();
    expect(summary.retraining.models).toEqual(['cnn-inter', 'cnn-inter-seed-2']);
    expect(summary.retraining.perRun).toEqual([gross('cnn-inter'), grossFigures(seed2.ec57!.perRecord.map((r) => r.matrix))]);
    expect(summary.retraining).toMatchObject({ runs: 2, records: 2 });
    expect(out).toContain('intervals over patients and retraining (2 runs');
    expect(out).toMatch(/\ncnn-inter-seed-2 +[\d -.]+\n/);
    // Another architecture is not a retraining; an ensemble with runs is ambiguous.
    let usage = '';
    const badIo: CliIo = { ...io, stdout: { write: () => true }, stderr: { write: (s: string) => (usage += s) } };
    expect(await main(['eval', 'beats', '--model', cnn, '--dir', db, '--records', '100', '--retrained', mlp], badIo)).toBe(1);
    expect(usage).toMatch(/mlp-inter: trained with other flags.*not only another seed.*ECG_ERR_MODEL/);
    expect(await main(['eval', 'beats', '--model', `${cnn},${mlp}`, '--dir', db, '--records', '100', '--retrained', cnnSeed2], badIo)).toBe(2);
    expect(usage).toMatch(/--retrained: give one model, not an ensemble.*ECG_ERR_USAGE/);
    // The confusion matrix is printed with the per-class table: each row as evaluateBeats counted it.
    const confusion = direct.get('cnn-inter')!.classification!.confusion;
    expect(out).toContain('confusion matrix (rows: reference class, columns: class given):');
    summary.classes.forEach((c, r) => expect(out).toContain(`\n${c.padEnd(5)} ${confusion[r].map((n) => String(n).padStart(8)).join('')}\n`));
    // Options that contradict one another, or a test split that overlaps the model's training beats, are refused.
    for (const [args, message] of [
      [['--protocol', 'intra'], /cnn-inter was trained on the inter protocol's training beats, which the intra test split overlaps.*ECG_ERR_BAD_OPTION/],
      [['--dir', db, '--protocol', 'inter'], /--protocol picks an MIT-BIH test split, --dir scores every beat of another database.*ECG_ERR_USAGE/],
      [['--records', '100'], /--records goes with --dir.*ECG_ERR_USAGE/],
    ] as const) {
      usage = '';
      expect(await main(['eval', 'beats', '--model', cnn, ...args], badIo)).toBe(2);
      expect(usage).toMatch(message);
    }
  }, 60_000);

  it('eval beats --lead takes a signal index as well as a name', async () => {
    let err = '';
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: { MITDB_DIR, XDG_CACHE_HOME: join(work, 'cache'), ECG_TF_BACKEND: 'wasm' } };
    const run = async (lead: string) => {
      const json = join(work, `lead-${lead}.json`);
      expect(await main(['eval', 'beats', '--model', join(modelsDir, 'mlp-inter'), '--dir', db, '--records', '100', '--lead', lead, '--json', json], io), err).toBe(0);
      return JSON.parse(await readFile(json, 'utf8')) as BeatsEvaluation;
    };
    // Record 100's signal 0 is MLII, signal 1 V5.
    const [byName, byIndex, other] = [await run('MLII'), await run('0'), await run('1')];
    expect(byIndex.classification!.confusion).toEqual(byName.classification!.confusion);
    expect(other.classification!.confusion).not.toEqual(byName.classification!.confusion);
    err = '';
    expect(await main(['eval', 'beats', '--model', join(modelsDir, 'mlp-inter'), '--dir', db, '--records', '100', '--lead', '5'], io)).toBe(2);
    expect(err).toMatch(/lead index 5 out of range \(the record has 2 signals\).*ECG_ERR_BAD_OPTION/);
  }, 60_000);

  it('seed table: accuracy on the original (leaky) split and on its leakage-free part side by side', () => {
    const classes = ['N', 'L', 'R', 'A', 'V'];
    const leaky = metricsFromConfusion([[9, 1, 0, 0, 0], [0, 10, 0, 0, 0], [0, 0, 10, 0, 0], [1, 0, 0, 9, 0], [0, 0, 0, 0, 10]], classes, classes);
    const leakFree = metricsFromConfusion([[3, 1, 0, 0, 0], [0, 4, 0, 0, 0], [0, 0, 2, 0, 0], [1, 0, 0, 3, 0], [0, 0, 0, 0, 5]], classes, classes);
    const evaluation: BeatsEvaluation = { model: 'x', classes, test: { kind: 'protocol', protocol: 'seed' }, beats: 50, classification: leaky, classificationLeakFree: leakFree, notes: [] };
    const fake: ModelReport = {
      generatedAt: '', skipped: [],
      models: [{ name: 'mshan-seed', dir: '/m/mshan-seed', modelArg: 'mshan-seed', kind: 'mshan', protocol: 'seed', classes, parameters: 11409, backend: 'wasm', usesRr: true, features: '8 rr', trainingSeconds: 540, epochsRun: 12, bestEpoch: 9, stoppedBy: 'early-stopping', datasetHash: 'h', createdAt: '' }],
      runs: [{ model: 'mshan-seed', protocol: 'seed', positions: 'reference', description: 'seed test split', command: 'ecg-monitor eval beats --model mshan-seed', evaluation, warnings: ['w1'] }],
    };
    const md = formatModelReport(fake);
    expect(tableRow(md, 'Seed protocol', 'accuracy %, original split (leaky)')).toEqual(['96.00']);
    expect(tableRow(md, 'Seed protocol', 'accuracy %, leakage-free test beats')).toEqual(['89.47']);
    expect(tableRow(md, 'Seed protocol', 'leakage-free test beats')).toEqual(['19']);
    expect(tableRow(md, 'Seed protocol', 'A Se / +P / F1')).toEqual(['90.00 / 100.00 / 0.9474']);
    expect(tableRow(md, 'Seed protocol', 'training time')).toEqual(['9.0 min, 12 epochs (best 9, stopped: early-stopping), wasm']);
    expect(md).not.toContain('VEB Se');
    expect(md).toContain('- mshan-seed: **w1**');
    // A refit model (train --refit): the search run and the refit, each with its time, and their sum.
    const refit = formatModelReport({ ...fake, models: [{ ...fake.models[0], trainingSeconds: 240, epochsRun: 9, refit: { searchSeconds: 540, searchEpochsRun: 12, searchStoppedBy: 'early-stopping' } }] });
    expect(tableRow(refit, 'Seed protocol', 'training time')).toEqual(['13.0 min: search 9.0 min, 12 epochs (best 9, stopped: early-stopping), then refit on training + validation 4.0 min, 9 epochs, wasm']);
  });
});

describe('describeFeatures', () => {
  it('counts a model\'s features by group, lists the others by name, and names a usual-beat channel', () => {
    expect(describeFeatures([])).toBe('none');
    expect(describeFeatures(['previousRrS', 'templatePCorrelation', 'nextRrS'])).toBe('2 rr + 1 template');
    expect(describeFeatures(['nextRrS', 'qtIntervalS'])).toBe('1 rr + qtIntervalS');
    expect(describeFeatures(['nextRrS'], true)).toBe('1 rr + usual beat (2nd window channel)');
    expect(describeFeatures([], true)).toBe('usual beat (2nd window channel)');
  });
});

describe('spliceReport (eval report --update)', () => {
  const card = `# Model card\n\nprose before\n\n${REPORT_BEGIN}\n\nold tables\n\n${REPORT_END}\n\nprose after\n`;
  it('replaces only the part between the markers, and again on a second run', () => {
    const once = spliceReport(card, '### new tables\n');
    expect(once).toBe(`# Model card\n\nprose before\n\n${REPORT_BEGIN}\n\n### new tables\n\n${REPORT_END}\n\nprose after\n`);
    expect(spliceReport(once, '### newer\n')).toBe(once.replace('### new tables', '### newer'));
  });
  it('appends the markers to a file without them, and refuses a half-marked file', () => {
    expect(spliceReport('# Card\n', 'T\n')).toBe(`# Card\n\n${REPORT_BEGIN}\n\nT\n\n${REPORT_END}\n`);
    expect(spliceReport('', 'T\n')).toBe(`${REPORT_BEGIN}\n\nT\n\n${REPORT_END}\n`);
    const errorOf = (f: () => unknown): unknown => { try { f(); } catch (error) { return error; } return undefined; };
    for (const [text, message] of [[`x\n${REPORT_BEGIN}\ny\n`, /no END marker/], [`x\n${REPORT_END}\n`, /no BEGIN marker/], [`${REPORT_END}\n${REPORT_BEGIN}\n`, /END before BEGIN/]] as const) {
      const error = errorOf(() => spliceReport(text, 'T'));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('ECG_ERR_USAGE');
      expect((error as ConfigError).message).toMatch(message);
    }
  });
});
