/**
 * The training length chosen on the other folds (src/model/crossValidation.ts), on hand-made histories; pooling
 * itself is tested through `eval folds` in tests/model/cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkRetrainingsOfOneRecipe, chooseEpochsOnOtherFolds } from '../../src/model/crossValidation.js';
import { loadManifest, type ModelManifest } from '../../src/model/modelIo.js';

describe('chooseEpochsOnOtherFolds', () => {
  it('picks, for each fold, the epoch with the best mean over the other folds, among epochs every run reached', () => {
    const runs = [
      { fold: 1, macroF1ByEpoch: [0.5, 0.6, 0.4] },
      { fold: 2, macroF1ByEpoch: [0.3, 0.2, 0.9] },
      { fold: 3, macroF1ByEpoch: [0.4, 0.7, 0.2, 0.99] }, // epoch 4 is not common to all runs: never chosen
    ];
    // Fold 1: others' means by epoch 0.35, 0.45, 0.55 -> 3. Fold 2: 0.45, 0.65, 0.30 -> 2. Fold 3: 0.40, 0.40, 0.65 -> 3.
    expect(chooseEpochsOnOtherFolds(runs)).toEqual([
      { fold: 1, epochs: 3, macroF1: 0.4 },
      { fold: 2, epochs: 2, macroF1: 0.2 },
      { fold: 3, epochs: 3, macroF1: 0.2 },
    ]);
  });

  it('gives nothing for one fold, or when a run has no history (a refit model)', () => {
    expect(chooseEpochsOnOtherFolds([{ fold: 1, macroF1ByEpoch: [0.5] }])).toEqual([]);
    expect(chooseEpochsOnOtherFolds([{ fold: 1, macroF1ByEpoch: [0.5] }, { fold: 2, macroF1ByEpoch: [] }])).toEqual([]);
  });
});

describe('checkRetrainingsOfOneRecipe (eval beats --retrained)', () => {
  // The shipped teachers are three seeds of one recipe; mshan-inter is their student, cnn-inter another network.
  const run = async (name: string) => ({ dir: name, manifest: await loadManifest(`models/${name}`) });
  const edited = (r: { dir: string; manifest: ModelManifest }, training: Record<string, unknown>) =>
    ({ dir: `${r.dir} (edited)`, manifest: { ...r.manifest, training: { ...r.manifest.training, ...training } } });

  it('accepts runs that differ only in the seed', async () => {
    const teachers = await Promise.all([1, 2, 3].map((s) => run(`teachers/mshan-inter-seed-${s}`)));
    expect(new Set(teachers.map((t) => t.manifest.training.seed)).size).toBe(3);
    expect(() => checkRetrainingsOfOneRecipe(teachers)).not.toThrow();
    // A manifest from before `keep` was recorded kept the best epoch.
    expect(() => checkRetrainingsOfOneRecipe([teachers[0], edited(teachers[1], { keep: 'best' })])).not.toThrow();
  });

  it('refuses another network, another training length, another kept epoch, or a distilled run among undistilled ones', async () => {
    const teacher = await run('teachers/mshan-inter-seed-1');
    const others = [await run('cnn-inter'), await run('mshan-inter'), edited(teacher, { maxEpochs: 3 }), edited(teacher, { augment: null }), edited(teacher, { keep: 'last' })];
    for (const other of others) {
      expect(() => checkRetrainingsOfOneRecipe([teacher, other]), other.dir).toThrow(/not only another seed/);
    }
  });
});
