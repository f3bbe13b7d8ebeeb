import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, packageRoot, resolveModelDir } from '../../src/config.js';

describe('resolveModelDir (eval beats --model, eval report --models)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ecg-models-'));
    await mkdir(join(root, 'mine'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('takes a name under the models folder, else the path as given', () => {
    expect(resolveModelDir('mine', root)).toBe(join(root, 'mine'));
    expect(resolveModelDir('elsewhere/model', root)).toBe(resolve('elsewhere/model'));
    expect(resolveModelDir(join(root, 'mine'), '/nonexistent')).toBe(join(root, 'mine'));
  });

  it('defaults to the package\'s models/, where the live default model is', () => {
    expect(resolveModelDir('mshan-inter')).toBe(defaultModelDir());
    expect(defaultModelDir().startsWith(packageRoot())).toBe(true);
  });
});
