/**
 * The training length chosen on the other folds (src/model/crossValidation.ts), on hand-made histories; pooling
 * itself is tested through `eval folds` in tests/model/cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { chooseEpochsOnOtherFolds } from '../../src/model/crossValidation.js';

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
