import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exitCodes.js';
import { EcgMonitorError, type ErrorCode } from '../../src/errors.js';

/**
 * docs/errors.md is where a user looks up a code the CLI printed: it must list every code src/errors.ts declares,
 * no other, each with the exit status the CLI really gives it.
 */

/** The members of the ErrorCode union, read from its source (a type has no runtime value to enumerate). */
function declaredCodes(): string[] {
  const source = readFileSync('src/errors.ts', 'utf8');
  const union = /export type ErrorCode =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'(ECG_ERR_[A-Z0-9_]+)'/g)].map((m) => m[1]!);
}

/** The code -> exit status rows of the docs' table. */
function documentedExits(): Map<string, number> {
  const rows = readFileSync('docs/errors.md', 'utf8').matchAll(/^\| `(ECG_ERR_[A-Z0-9_]+)` \| (\d) \|/gm);
  return new Map([...rows].map((m) => [m[1]!, Number(m[2])]));
}

describe('docs/errors.md', () => {
  it('lists exactly the codes src/errors.ts declares', () => {
    const declared = declaredCodes();
    expect(declared.length).toBeGreaterThan(10);
    expect([...documentedExits().keys()].sort()).toEqual([...declared].sort());
  });

  it('gives each code the exit status the CLI gives it', () => {
    for (const [code, exit] of documentedExits()) {
      expect([code, exitCodeFor(new EcgMonitorError(code as ErrorCode, 'x'))]).toEqual([code, exit]);
    }
  });
});
