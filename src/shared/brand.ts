import type { z } from 'zod';

/**
 * A nominal type: `T` tagged so that, say, a `PersonNo` cannot be passed where a `HouseholdNo` is expected.
 * It is the same tag zod 4's `.brand<B>()` puts on its output, so values parsed by a branded schema and
 * values typed with `Brand<string, B>` are interchangeable.
 */
export type Brand<T, B extends string> = T & z.core.$brand<B>;

/**
 * Canonical form of typed-in text before validation: NFKC (full-width digits, letters and parentheses become
 * ASCII, half-width katakana becomes full-width) and trimmed (NFKC turns the ideographic space U+3000 into
 * an ASCII space first, so it is trimmed too).
 */
export function normalizeInput(s: string): string {
  return s.normalize('NFKC').trim();
}
