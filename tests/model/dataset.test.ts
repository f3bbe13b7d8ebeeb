/** The dataset directory reader: its documented layout, the tolerated variants, and clear errors. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, loadUsualBeats, syntheticDataset, writeDataset } from '../../src/model/dataset.js';

let root: string;

describe('loadDataset', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ecg-dataset-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads back what writeDataset wrote (windows, features, labels, beats, hash)', async () => {
    const content = syntheticDataset({ beatsPerRecord: 5, records: ['100', '101'] });
    const dir = join(root, 'roundtrip');
    const hash = await writeDataset(dir, content);
    const ds = await loadDataset(dir);
    expect(ds.count).toBe(10);
    expect(ds.windowLength).toBe(360);
    expect(ds.featureCount).toBe(8);
    expect(Array.from(ds.windows)).toEqual(Array.from(content.windows));
    expect(Array.from(ds.features)).toEqual(Array.from(content.features));
    expect(ds.record).toEqual(content.record);
    expect(Array.from(ds.sample)).toEqual(Array.from(content.sample));
    expect(ds.symbol).toEqual(content.symbol);
    expect(ds.hasSymbols).toBe(true);
    expect(ds.hash).toBe(hash);
  });

  it('accepts recordIndex + manifest.records, beats inside the manifest, and derives symbols from labels.u8', async () => {
    const dir = join(root, 'variant');
    await writeDataset(dir, syntheticDataset({ beatsPerRecord: 3, records: ['200', '201'] }));
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    delete manifest.hash;
    manifest.records = ['200', '201'];
    manifest.beats = { recordIndex: [0, 0, 0, 1, 1, 1], sample: [1, 2, 3, 4, 5, 6] };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    await writeFile(join(dir, 'labels.u8'), Uint8Array.from([0, 1, 2, 3, 4, 255]));
    const ds = await loadDataset(dir);
    expect(ds.record).toEqual(['200', '200', '200', '201', '201', '201']);
    expect(ds.symbol).toEqual(['N', 'S', 'V', 'F', 'Q', '']);
    expect(ds.hasSymbols).toBe(false);
    expect(ds.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('accepts beats.json as an array of objects', async () => {
    const dir = join(root, 'rows');
    await writeDataset(dir, syntheticDataset({ beatsPerRecord: 2, records: ['105'] }));
    await writeFile(join(dir, 'beats.json'), JSON.stringify([{ record: '105', sample: 10, symbol: 'V' }, { record: '105', sample: 20, symbol: 'A' }]));
    const ds = await loadDataset(dir);
    expect(ds.symbol).toEqual(['V', 'A']);
    expect(Array.from(ds.sample)).toEqual([10, 20]);
  });

  it('keeps usual beats beside the windows, outside the content hash, checked against their own hash', async () => {
    const content = syntheticDataset({ beatsPerRecord: 12, records: ['100', '101'] });
    const dir = join(root, 'usual');
    const hash = await writeDataset(dir, content);
    expect(await writeDataset(join(root, 'without'), { ...content, usualBeats: undefined })).toBe(hash);
    const ds = await loadDataset(dir);
    expect(Array.from(await loadUsualBeats(ds))).toEqual(Array.from(content.usualBeats!));
    // The synthetic usual beats are compareToTemplate's: each record's own beats (the first beat is itself).
    expect(Array.from(content.usualBeats!.subarray(0, 360))).toEqual(Array.from(content.windows.subarray(0, 360)));
    expect(Array.from(content.usualBeats!.subarray(12 * 360, 13 * 360))).toEqual(Array.from(content.windows.subarray(12 * 360, 13 * 360)));
    expect(Array.from(content.usualBeats!.subarray(11 * 360, 12 * 360))).not.toEqual(Array.from(content.windows.subarray(11 * 360, 12 * 360)));

    const changed = new Uint8Array(await readFile(join(dir, 'usual-beats.f32')));
    changed[7] ^= 1;
    await writeFile(join(dir, 'usual-beats.f32'), changed);
    await expect(loadUsualBeats(ds)).rejects.toMatchObject({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/usual-beats\.f32: does not match its hash in manifest\.json.*--force/) });
    await expect(loadUsualBeats(await loadDataset(join(root, 'without')))).rejects.toMatchObject({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/holds no usual beats.*dataset build --force/) });
    await expect(writeDataset(join(root, 'bad'), { ...content, usualBeats: new Float32Array(5) })).rejects.toThrow(/5 usual-beat samples for 8640 window samples/);
  });

  it('names the file when sizes disagree with the manifest, or the manifest is missing', async () => {
    const dir = join(root, 'short');
    await writeDataset(dir, syntheticDataset({ beatsPerRecord: 2, records: ['105'] }));
    await writeFile(join(dir, 'windows.f32'), new Uint8Array(100));
    await expect(loadDataset(dir)).rejects.toMatchObject({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/short\/windows\.f32: holds 100 bytes, expected 2880/) });
    await expect(loadDataset(join(root, 'absent'))).rejects.toMatchObject({ code: 'ECG_ERR_MODEL', message: expect.stringMatching(/manifest\.json missing/) });
  });
});
