/**
 * Lists as one bind value. `IN ($1, …, $n)` sends, parses and plans a parameter per item: a search
 * with 1,500 candidates built a statement of 1,500 parameters. An array literal is one text value, sent
 * the same way by both drivers, and `= ANY(…)` over it uses the same indexes.
 */
import {
  sql,
  type Compilable,
  type CompiledQuery,
  type QueryExecutorProvider,
  type QueryResult,
  type RawBuilder,
  type Transaction,
} from 'kysely';
import type { Database } from './schema.js';

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

/** Marks a statement whose reply is not read (`unreadReply`); `pipelineUnread` in index.ts looks for it. */
export const UNREAD_REPLY = '/* jumin:unread */';

/**
 * A write whose reply the caller does not read (no rows returned, no count checked): on PostgreSQL, inside
 * a transaction, it is sent together with the transaction's next statement, which then fails with this
 * one's error if it failed (see `pipelineUnread`). Awaiting it returns no rows. On the embedded database,
 * and outside a transaction, it runs as any statement.
 */
export function unreadReply<T>(query: RawBuilder<T>): RawBuilder<T> {
  return sql<T>`${sql.raw(UNREAD_REPLY)} ${query}`;
}

/**
 * Sends a transaction's statements together and returns their rows, in order. Each still runs after the
 * one before it has finished, as its own statement: it sees what that one did and takes its snapshot
 * after that one's lock waits (a household locked, then its members read). On PostgreSQL (the pools are
 * in `pipeline` mode) they share one round trip; if one fails, the later ones fail in the aborted
 * transaction and the first error is the one thrown. The embedded database runs them one after another.
 * Uses Kysely's executor directly: a transaction runs one statement at a time through its own methods.
 */
export async function pipelined<T extends readonly Statement<unknown>[]>(
  trx: Transaction<Database>,
  queries: T,
): Promise<{ [K in keyof T]: T[K] extends Statement<infer R> ? R[] : never }> {
  // A query builder compiles on its own; a raw statement (sql`…`) with the transaction's executor.
  const compiled = queries.map((q) =>
    (q as { compile(p: QueryExecutorProvider): CompiledQuery }).compile(trx),
  );
  const settled = await trx
    .getExecutor()
    .provideConnection((connection) => Promise.allSettled(compiled.map((c) => connection.executeQuery(c))));
  // The first to fail in statement order: the later ones only failed because the transaction was aborted.
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<QueryResult<unknown>>).value.rows) as {
    [K in keyof T]: T[K] extends Statement<infer R> ? R[] : never;
  };
}

/** A statement `pipelined` sends: a query builder or a raw statement. */
type Statement<R> = Compilable<R> | RawBuilder<R>;
