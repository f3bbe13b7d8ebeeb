import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { lastValueFrom, map, type Observable } from 'rxjs';
import { defaultModelDir, mitdbDir, resolveModelDir } from '../../config.js';
import { log } from '../../log.js';
import { monitorPipeline } from '../../pipeline/monitorPipeline.js';
import { monitorRules, rulesAfterModel, type MonitorRules } from '../../pipeline/rulesAfterModel.js';
import { recordSource } from '../../sources/recordSource.js';
import { RecordFormatError } from '../../errors.js';
import { chooseLeadIndex, readHeader } from '../../wfdb/header.js';
import { classifiedBeatMessage, detectedBeatMessage, encodeBeatMessage } from '../../wire/beatMessage.js';
import { leadOption, newCommand, nonNegativeInteger, nonNegativeNumber, type CliIo } from '../io.js';
import { addRuleOptions } from '../ruleOptions.js';

interface ServeFlags extends MonitorRules {
  dir?: string;
  record: string;
  lead?: string;
  speed: number;
  fromS: number;
  toS?: number;
  model?: string;
  classify: boolean;
}

/**
 * `ecg-monitor serve`: the live monitor. Replays a WFDB record (by default MIT-BIH 100 at real-time speed) through
 * band-pass -> R-peaks -> beat windows -> MSHAN classes -> rhythm (atrial fibrillation, and the S gate it drives) ->
 * the rules after the model (rulesAfterModel.ts), and writes one NDJSON line per beat on stdout.
 */
export function serveCommand(io: CliIo): Command {
  const command = newCommand('serve', io)
    .description('run the monitor on a stream: one NDJSON line per beat (R-peak, AAMI class, probabilities, atrial fibrillation; the schema of src/wire/beatMessage.ts, version 1) on stdout')
    .option('--dir <path>', 'WFDB database folder (default: MITDB_DIR)')
    .option('--record <name>', 'record to replay', '100')
    .option('--lead <name|index>', 'lead to monitor (default: MLII if present, else the first signal)')
    .addOption(new Option('--speed <factor>', 'replay speed: 1 = real time, 10 = ten times, 0 = as fast as possible').default(1).argParser(nonNegativeNumber))
    .option('--from-s <seconds>', 'start this far into the record', nonNegativeInteger, 0)
    .option('--to-s <seconds>', 'stop this far into the record (default: its end)', nonNegativeInteger)
    .option('--model <name|dir>', 'classifier model folder, or a name under models/ (default: models/mshan-inter)')
    .option('--no-classify', 'detect and window beats without classifying them');
  return addRuleOptions(command)
    .addHelpText('after', '\nExamples:\n  ecg-monitor serve --record 208 --speed 10\n  ecg-monitor serve --record 100 --speed 0 --to-s 60 --no-classify\n')
    .action(async (flags: ServeFlags) => {
      const dir = flags.dir ?? mitdbDir(io.env);
      if (!existsSync(join(dir, `${flags.record}.hea`))) {
        throw new RecordFormatError('ECG_ERR_FILE_NOT_FOUND', `record ${flags.record} not found; get MIT-BIH with \`ecg-monitor mitdb fetch\` or set MITDB_DIR`, { file: join(dir, `${flags.record}.hea`) });
      }
      const fsHz = 360;
      const source$ = recordSource(dir, flags.record, {
        speed: flags.speed,
        lead: chooseLeadIndex(await readHeader(join(dir, `${flags.record}.hea`)), flags.lead === undefined ? undefined : leadOption(flags.lead), `serve: record ${flags.record}`),
        fromSample: flags.fromS * fsHz,
        toSample: flags.toS === undefined ? undefined : flags.toS * fsHz,
      });
      const beats$ = source$.pipe(monitorPipeline());
      let lines$: Observable<string>;
      // A model the user named must load (a clear ECG_ERR_MODEL if not); only the default may be absent, as in a
      // checkout without models/, and then beats go out unclassified with a warning.
      const modelDir = flags.model === undefined ? defaultModelDir() : resolveModelDir(flags.model);
      if (flags.classify && (flags.model !== undefined || existsSync(join(modelDir, 'model.json')))) {
        // TensorFlow.js loads only when there is something to classify.
        const [{ initBackend }, { loadClassifier }, { classifyBeats }] = await Promise.all([
          import('../../model/backend.js'), import('../../model/predict.js'), import('../../pipeline/classifyBeats.js'),
        ]);
        await initBackend(undefined, io.env);
        const classifier = await loadClassifier(modelDir);
        log.info({ model: modelDir }, 'classifying beats');
        lines$ = beats$.pipe(
          classifyBeats(classifier),
          rulesAfterModel(monitorRules(flags)), // rhythm, then the S and V gates (rulesAfterModel.ts)
          map((c) => encodeBeatMessage(classifiedBeatMessage(c))),
        );
      } else {
        if (flags.classify) log.warn({ model: modelDir }, 'no default model found there: beats are detected but not classified (--model names one)');
        lines$ = beats$.pipe(map((b) => encodeBeatMessage(detectedBeatMessage(b))));
      }
      await lastValueFrom(lines$.pipe(map((line) => io.stdout.write(`${line}\n`))), { defaultValue: undefined });
    });
}
