import { describe, expect, it } from 'vitest';
import { checkTrainOptions } from '../../src/cli/commands/train.js';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/fakeIo.js';

describe('train: options that would be silently ignored are refused', () => {
  const check = (flags: Parameters<typeof checkTrainOptions>[0], given: string[]) => () => checkTrainOptions(flags, (o) => given.includes(o));
  const inter = { model: 'mshan', protocol: 'inter' } as const;

  it('accepts the combinations the shipped models use', () => {
    expect(check({ ...inter, features: ['previousRrS'] }, ['classQuota', 'validation', 'teacher', 'distillWeight', 'features'])).not.toThrow();
    expect(check({ model: 'mshan', protocol: 'intra', balance: 'none' }, ['balance'])).not.toThrow();
    expect(check({ model: 'mshan', protocol: 'seed' }, [])).not.toThrow();
    expect(check({ model: 'mshan-norr', protocol: 'inter' }, ['classQuota'])).not.toThrow();
  });

  it('refuses each ignored option with a usage error naming it', () => {
    const cases: [Parameters<typeof checkTrainOptions>[0], string[], RegExp][] = [
      [inter, ['distillWeight'], /--distill-weight .* needs --teacher/],
      [inter, ['distillTemperature'], /--distill-temperature .* needs --teacher/],
      [{ model: 'mshan', protocol: 'intra' }, ['validation'], /--validation chooses how DS1 validates/],
      [{ ...inter, balance: 'weights' }, ['balance', 'classQuota'], /--class-quota set class-balanced sampling, but --balance is weights$/],
      [{ ...inter, balance: 'none' }, ['balance', 'recordBalance'], /--record-balance set class-balanced sampling, but --balance is none$/],
      [{ model: 'cnn', protocol: 'seed' }, ['perClass', 'majorityFactor'], /--per-class, --majority-factor set .* --balance is none \(the seed protocol's default\)/],
      [{ model: 'mshan-norr', protocol: 'inter', features: ['rr'] }, ['features'], /--model mshan-norr takes no features/],
    ];
    for (const [flags, given, message] of cases) {
      expect(check(flags, given)).toThrow(expect.objectContaining({ code: 'ECG_ERR_USAGE', message: expect.stringMatching(message) }));
    }
  });

  it('from the command line: exit 2 before any data is read', async () => {
    const io = fakeIo({ ...process.env, ECG_DATASET_DIR: '/nonexistent' });
    expect(await main(['train', '--distill-weight', '0.7', '--out', '/nonexistent/model'], io)).toBe(2);
    expect(io.err()).toMatch(/--distill-weight .* needs --teacher.*ECG_ERR_USAGE/);
  });
});
