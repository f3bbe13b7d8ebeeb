import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { DS1_RECORDS, DS2_RECORDS } from '../../src/dataset/aamiClasses.js';
import { trySetBackend } from '../../src/model/backend.js';
import { syntheticDataset, writeDataset } from '../../src/model/dataset.js';
import { trainModel } from '../../src/model/train.js';
import { isBeatCode } from '../../src/wfdb/annotationCodes.js';
import { readAnnotations } from '../../src/wfdb/annotations.js';
import { MITDB_DIR, skipWithoutMitdb } from '../helpers/mitdb.js';
import { fakeIo as fakeIoWith } from '../helpers/fakeIo.js';
import { decodeBeatMessage } from '../../src/wire/beatMessage.js';

const fakeIo = () => fakeIoWith({ ...process.env, MITDB_DIR });

describe.skipIf(skipWithoutMitdb())('ecg-monitor serve', () => {
  let work: string;
  let model: Promise<string> | undefined;
  /** A one-epoch MLP on synthetic beats, trained on first use: its classes are poor but varied. */
  const tinyModel = (): Promise<string> => (model ??= (async () => {
    expect(await trySetBackend('wasm')).toBe(true);
    await writeDataset(join(work, 'data'), syntheticDataset({ beatsPerRecord: 6, records: [...DS1_RECORDS, ...DS2_RECORDS], seed: 5 }));
    await trainModel({ model: 'mlp', protocol: 'inter', datasetDir: join(work, 'data'), outDir: join(work, 'model'), epochs: 1, batchSize: 16, perClassPerEpoch: 20, maxMinutes: 1e6 });
    return join(work, 'model');
  })());
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ecg-serve-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes one NDJSON line per beat of the replayed record', async () => {
    const io = fakeIo();
    expect(await main(['serve', '--record', '100', '--speed', '0', '--to-s', '30', '--no-classify'], io)).toBe(0);
    const lines = io.out().trim().split('\n').map((l) => decodeBeatMessage(l));
    const reference = (await readAnnotations(join(MITDB_DIR, '100.atr'))).filter((a) => isBeatCode(a.code) && a.sample < 30 * 360);
    expect(Math.abs(lines.length - reference.length)).toBeLessThanOrEqual(1);
    for (const line of lines) {
      expect(line).toMatchObject({ type: 'beat', streamId: 'mitdb/100', fsHz: 360 });
      expect(reference.some((a) => Math.abs(a.sample - line.sampleIndex) <= 54)).toBe(true);
      expect(line.rr!.previousRrMs).toBeGreaterThan(300);
    }
  });

  it('classifies the beats with the model it is given', async () => {
    const io = fakeIo();
    expect(await main(['serve', '--record', '100', '--speed', '0', '--to-s', '20', '--model', await tinyModel()], io)).toBe(0);
    const lines = io.out().trim().split('\n').map((l) => decodeBeatMessage(l));
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(['N', 'S', 'V', 'F', 'Q']).toContain(line.beatClass);
      expect(line.probabilities).toHaveLength(5);
      expect(line.probabilities!.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 2);
      expect(line.atrialFibrillation).toBe(false); // 20 s of sinus rhythm: too few intervals to judge, and no AF
    }
  });

  it('marks atrial fibrillation and gates S calls there, unless --no-af-gate; the V gates after it (record 221, AF throughout)', async () => {
    const args = ['serve', '--record', '221', '--speed', '0', '--to-s', '240', '--model', await tinyModel()];
    const linesOf = async (extra: string[]) => {
      const io = fakeIo();
      expect(await main([...args, ...extra], io)).toBe(0);
      return io.out().trim().split('\n').map((l) => decodeBeatMessage(l));
    };
    const gated = await linesOf(['--no-template-gate', '--no-timing-gate', '--no-p-wave-gate', '--no-qrs-gate', '--no-morphology-vote']);
    const plain = await linesOf(['--no-af-gate', '--no-template-gate', '--no-timing-gate', '--no-p-wave-gate', '--no-qrs-gate', '--no-morphology-vote']);
    expect(gated.filter((l) => l.atrialFibrillation).length).toBeGreaterThan(gated.length / 2);
    expect(gated.some((l) => l.atrialFibrillation && l.beatClass === 'S')).toBe(false);
    expect(gated.some((l) => l.modelClass === 'S')).toBe(true);
    expect(plain.some((l) => 'modelClass' in l)).toBe(false);
    gated.forEach((l, i) => expect(l.modelClass ?? l.beatClass).toBe(plain[i].beatClass));
    // With all the rules (the default), every changed beat was an S or a V call of the model.
    const both = await linesOf([]);
    both.forEach((l, i) => expect(l.modelClass ?? l.beatClass).toBe(plain[i].beatClass));
    expect(both.filter((l) => l.modelClass).every((l) => ['S', 'V'].includes(l.modelClass!) && l.beatClass !== l.modelClass)).toBe(true);
  });

  it('runs the morphology vote after the other rules unless --no-morphology-vote (record 233, many PVCs of a few shapes)', async () => {
    const linesOf = async (extra: string[]) => {
      const io = fakeIo();
      expect(await main(['serve', '--record', '233', '--speed', '0', '--to-s', '600', ...extra], io)).toBe(0);
      return io.out().trim().split('\n').map((l) => decodeBeatMessage(l));
    };
    const [rules, voted] = [await linesOf(['--no-morphology-vote']), await linesOf([])];
    expect(voted.map((l) => l.sampleIndex)).toEqual(rules.map((l) => l.sampleIndex));
    const changed = voted.flatMap((l, i) => (l.beatClass !== rules[i].beatClass ? [[rules[i].beatClass, l.beatClass]] : []));
    expect(changed.length).toBeGreaterThan(0);
    // The vote only ever moves a call across the V / non-V line.
    for (const [before, after] of changed) expect(before === 'V').not.toBe(after === 'V');
  });

  it('ends quietly with exit 0 when its reader goes away (`serve | head`), spawned from dist/', async () => {
    const mainJs = resolve('dist/src/cli/main.js');
    if (!existsSync(mainJs)) throw new Error(`${mainJs} missing: run \`npm run build\` first (npm test does)`);
    const child = spawn(process.execPath, [mainJs, 'serve', '--record', '100', '--speed', '0', '--no-classify'], { env: { ...process.env, MITDB_DIR } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const firstLine = await new Promise<string>((done, fail) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) done(out.split('\n')[0]);
      });
      child.on('close', (code) => fail(new Error(`serve exited ${code} before its first line: ${stderr}`)));
    });
    child.stdout.destroy(); // as `head -1` does: the pipe's read end closes while serve still has half an hour to write
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(decodeBeatMessage(firstLine)).toMatchObject({ type: 'beat', version: 1 });
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });

  it('says how to get the data when the record is missing, exit 1', async () => {
    const io = fakeIo();
    expect(await main(['serve', '--record', '999', '--dir', work], io)).toBe(1);
    expect(io.err()).toMatch(/record 999 not found.*mitdb fetch.*\[ECG_ERR_FILE_NOT_FOUND\]/);
  });

  it('refuses a model it is told to use but cannot load, rather than sending unclassified beats (exit 1)', async () => {
    const io = fakeIo();
    expect(await main(['serve', '--record', '100', '--speed', '0', '--to-s', '5', '--model', join(work, 'no-such-model')], io)).toBe(1);
    expect(io.err()).toMatch(/no-such-model: no model there .*name of one under models\/.*\[ECG_ERR_MODEL\]/);
    expect(io.out()).toBe('');
  });

  it('rejects a negative speed as a usage error, exit 2', async () => {
    const io = fakeIo();
    expect(await main(['serve', '--speed', '-1'], io)).toBe(2);
    expect(io.err()).toMatch(/--speed/);
  });
});
