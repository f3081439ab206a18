/**
 * Lists as one bind value. `IN ($1, …, $n)` sends, parses and plans a parameter per item: a search
 * with 1,500 candidates built a statement of 1,500 parameters. An array literal is one text value, sent
 * the same way by both drivers, and `= ANY(…)` over it uses the same indexes.
 */
import { sql, type RawBuilder } from 'kysely';

/** The element types lists are sent as; `bpchar` for the char(n) columns (宛名番号, 世帯番号), so that their indexes apply. */
type ElementType = 'text' | 'bpchar' | 'uuid';

/** Strings as a PostgreSQL array of `type`, each element quoted. */
export function textArray(values: readonly string[], type: ElementType = 'text'): RawBuilder<string[]> {
  const literal = `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
  return sql<string[]>`${literal}::${sql.raw(type)}[]`;
}

/** Integers as a PostgreSQL bigint array. */
export function bigintArray(values: readonly number[]): RawBuilder<number[]> {
  return sql<number[]>`${`{${values.map((v) => String(Math.trunc(v))).join(',')}}`}::bigint[]`;
}
