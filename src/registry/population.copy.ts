/**
 * PostgreSQL side of the synthetic-population loader: rows go in with `COPY … FROM STDIN` (text format)
 * instead of INSERTs.
 *
 * Two ways:
 * - **bulk**, when the register is empty (no household, change or snapshot of any municipality): the
 *   secondary indexes and foreign keys of the four tables are dropped (`beginBulkLoad`), one COPY per table
 *   streams the whole load on its own connection (`openCopyStreams`: the four run side by side, so
 *   PostgreSQL parses while Node generates; with worker threads, four per worker, population.parallel.ts),
 *   then the indexes are rebuilt and the foreign keys added back — which validates every reference in one
 *   pass. Whatever happens, the dropped indexes and keys are restored before the load returns or throws.
 * - **batched**, when the register already holds data: per batch of households one transaction with four
 *   COPYs on one connection, under the existing indexes and keys (the counter keeps working meanwhile).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PopulationRows } from './population.loader.js';

/** The tables a load writes, in dependency order, and their COPY column lists. */
export const COPY_TABLES = {
  household: ['lg_code', 'household_no'],
  change: [
    'change_id',
    'lg_code',
    'change_type',
    'change_kind',
    'reason',
    'effective_date',
    'processed_on',
    'notified_on',
    'staff_id',
    'terminal_id',
    'notes',
    'payload',
    'flow_japanese',
    'flow_foreign',
  ],
  resident_history: [
    'lg_code',
    'person_no',
    'history_seq',
    'change_id',
    'status',
    'household_no',
    'name_norm',
    'kana_norm',
    'other_names_norm',
    'address_norm',
    'birth_sort',
    'sex',
    'my_number_index',
    'my_number_enc',
    'resident_code',
    'residence_card_no',
    'numbers_new',
    'record',
  ],
  resident: [
    'lg_code',
    'person_no',
    'history_seq',
    'kind',
    'status',
    'household_no',
    'household_order',
    'relationship',
    'removed_on',
    'planned_move_out',
    'kana_sort',
    'record',
  ],
} as const;
export type CopyTable = keyof typeof COPY_TABLES;
const TABLES = Object.keys(COPY_TABLES) as CopyTable[];
const ROW_KEY: Record<CopyTable, keyof PopulationRows> = {
  household: 'households',
  change: 'changes',
  resident_history: 'history',
  resident: 'residents',
};

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in COPY text format: \N for null, bytea as \\x…, backslash and control characters escaped. */
function copyValue(v: string | number | boolean | Buffer | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  const s = typeof v === 'number' ? String(v) : v;
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** The COPY text of a table's rows of one batch. */
export function copyText(table: CopyTable, rows: PopulationRows): string {
  const columns = COPY_TABLES[table];
  let out = '';
  for (const row of rows[ROW_KEY[table]] as ReadonlyArray<
    Record<string, string | number | boolean | Buffer | null | undefined>
  >) {
    out += columns.map((c) => copyValue(row[c])).join('\t') + '\n';
  }
  return out;
}

/** One batch as COPY text per table, UTF-8 encoded. */
export type CopyTexts = Record<CopyTable, Uint8Array>;

const utf8 = new TextEncoder();

export function copyTexts(rows: PopulationRows): CopyTexts {
  return Object.fromEntries(TABLES.map((t) => [t, utf8.encode(copyText(t, rows))])) as CopyTexts;
}

/** Bytes a bulk COPY stream may hold before the loader waits for PostgreSQL to catch up. */
const BUFFERED = 32 * 1024 * 1024;

const copyStatement = (table: CopyTable) =>
  `COPY ${table} (${COPY_TABLES[table].join(', ')}) FROM STDIN WITH (FORMAT text)`;

/** Resolves when the stream has written its buffer out; rejects if it fails first. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      stream.off('drain', onDrain);
      reject(error);
    };
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

/** Where the loader puts each batch's COPY text. */
export interface CopySink {
  write(copy: CopyTexts): Promise<void>;
  /** Completes the load (and, in bulk mode, rebuilds indexes and keys). */
  finish(onPhase?: (phase: string) => void): Promise<void>;
  /** Abandons the load after an error: nothing more is written; bulk mode restores indexes and keys. */
  abort(): Promise<void>;
}

/** True when no municipality has any household, change or snapshot yet (bulk mode is allowed). */
export async function registerIsEmpty(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ empty: boolean }>(
    `SELECT NOT (EXISTS (SELECT 1 FROM household) OR EXISTS (SELECT 1 FROM change)
              OR EXISTS (SELECT 1 FROM resident_history) OR EXISTS (SELECT 1 FROM resident)) AS empty`,
  );
  return result.rows[0]?.empty === true;
}

/** Per batch: one transaction, four COPYs, on one connection; indexes and keys stay in place. */
export async function batchedCopySink(connect: () => Promise<pg.Client>): Promise<CopySink> {
  const client = await connect();
  return {
    async write(copy) {
      await client.query('BEGIN');
      try {
        for (const table of TABLES) {
          const text = copy[table];
          if (text.length > 0) {
            await pipeline(Readable.from([Buffer.from(text)]), client.query(copyFrom(copyStatement(table))));
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    async finish() {
      await client.end();
    },
    async abort() {
      await client.end().catch(() => undefined);
    },
  };
}

interface DroppedDefinitions {
  /** `ALTER TABLE … ADD CONSTRAINT …` statements of the foreign keys dropped. */
  foreignKeys: string[];
  /** `CREATE INDEX …` statements of the secondary indexes dropped. */
  indexes: string[];
}

/** Drops the secondary indexes and foreign keys of the load's tables; returns how to recreate them. */
async function dropIndexesAndKeys(client: pg.Client): Promise<DroppedDefinitions> {
  const tables = TABLES.map((t) => `'${t}'::regclass`).join(', ');
  await client.query('BEGIN');
  try {
    const keys = await client.query<{ tbl: string; name: string; def: string }>(
      `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE contype = 'f' AND conrelid IN (${tables}) ORDER BY conrelid, conname`,
    );
    const indexes = await client.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid IN (${tables}) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname`,
    );
    for (const k of keys.rows) await client.query(`ALTER TABLE ${k.tbl} DROP CONSTRAINT "${k.name}"`);
    for (const i of indexes.rows) await client.query(`DROP INDEX "${i.name}"`);
    await client.query('COMMIT');
    return {
      foreignKeys: keys.rows.map((k) => `ALTER TABLE ${k.tbl} ADD CONSTRAINT "${k.name}" ${k.def}`),
      indexes: indexes.rows.map((i) => i.def),
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs statements on `clients` in parallel, each client taking the next statement when free. */
async function runSpread(clients: pg.Client[], statements: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < statements.length) {
        const statement = statements[next++] as string;
        await client.query(statement);
      }
    }),
  );
}

/** Recreates what `dropIndexesAndKeys` dropped: indexes two at a time, then the keys (validated). */
async function restoreIndexesAndKeys(clients: pg.Client[], dropped: DroppedDefinitions): Promise<void> {
  for (const c of clients) {
    await c.query(`SET maintenance_work_mem = '1GB'`);
    await c.query('SET max_parallel_maintenance_workers = 0');
  }
  // Longest first: the trigram indexes of resident_history take longest to build.
  const indexes = [...dropped.indexes].sort((a, b) => Number(b.includes('gin')) - Number(a.includes('gin')));
  await runSpread(clients, indexes);
  await runSpread(clients.slice(0, 1), dropped.foreignKeys);
}

/** One COPY stream per table, each on a connection of its own, for a whole bulk load (or a worker's part). */
export interface CopyStreams {
  write(copy: CopyTexts): Promise<void>;
  /** Ends each COPY: its rows are committed. */
  end(): Promise<void>;
  /** Closes the connections mid-COPY: none of the rows is committed. */
  abort(): Promise<void>;
}

export async function openCopyStreams(connect: () => Promise<pg.Client>): Promise<CopyStreams> {
  const clients: pg.Client[] = [];
  const streams = new Map<CopyTable, Writable>();
  const done: Array<Promise<unknown>> = [];
  const endAll = async () => {
    for (const c of clients) await c.end().catch(() => undefined);
  };
  try {
    for (const table of TABLES) {
      const client = await connect();
      // Errors surface through the stream (write/end); after an abort the ended connection reports its
      // own end, which is expected.
      client.on('error', () => undefined);
      clients.push(client);
      const stream = client.query(copyFrom(copyStatement(table)));
      streams.set(table, stream);
      const finished = once(stream, 'finish');
      finished.catch(() => undefined); // awaited by end(); an aborted load never awaits it
      done.push(finished);
      // An error before the end is raised by the next write or by end(); keep it from crashing Node.
      stream.on('error', () => undefined);
    }
  } catch (error) {
    await endAll();
    throw error;
  }
  return {
    async write(copy) {
      for (const table of TABLES) {
        const stream = streams.get(table) as Writable;
        if (stream.errored) throw stream.errored;
        const text = copy[table];
        // Let up to BUFFERED bytes queue per table, so Node generates the next batch while PostgreSQL parses.
        if (text.length > 0 && !stream.write(Buffer.from(text.buffer, text.byteOffset, text.length))) {
          if (stream.writableLength > BUFFERED) await drained(stream);
        }
      }
    },
    async end() {
      try {
        for (const stream of streams.values()) stream.end();
        await Promise.all(done);
      } finally {
        await endAll();
      }
    },
    abort: endAll,
  };
}

/** Bulk mode's frame: the indexes and keys dropped while the rows go in, rebuilt by `finish` or `abort`. */
export interface BulkLoad {
  /** Rebuilds the indexes and keys (validating every reference) and analyzes the tables. */
  finish(onPhase?: (phase: string) => void): Promise<void>;
  /** Rebuilds the indexes and keys after a failed load. */
  abort(): Promise<void>;
}

/** Bulk mode (empty register only): drops the secondary indexes and foreign keys of the load's tables. */
export async function beginBulkLoad(connect: () => Promise<pg.Client>): Promise<BulkLoad> {
  const admin = await connect();
  let dropped: DroppedDefinitions | undefined;
  const restore = async () => {
    if (!dropped) return;
    const helper = await connect();
    try {
      await restoreIndexesAndKeys([admin, helper], dropped);
      dropped = undefined;
    } finally {
      await helper.end();
    }
  };
  try {
    if (!(await registerIsEmpty(admin))) throw new Error('bulk load needs an empty register');
    dropped = await dropIndexesAndKeys(admin);
  } catch (error) {
    await restore().finally(() => admin.end());
    throw error;
  }
  return {
    async finish(onPhase) {
      try {
        onPhase?.('indexes');
        await restore();
        onPhase?.('analyze');
        await admin.query(`ANALYZE ${TABLES.join(', ')}`);
      } finally {
        await restore().finally(() => admin.end());
      }
    },
    abort: () => restore().finally(() => admin.end()),
  };
}

/**
 * Bulk mode on this thread: drop indexes and keys, one COPY stream per table for the whole load, rebuild
 * at the end.
 */
export async function bulkCopySink(connect: () => Promise<pg.Client>): Promise<CopySink> {
  const bulk = await beginBulkLoad(connect);
  let streams: CopyStreams;
  try {
    streams = await openCopyStreams(connect);
  } catch (error) {
    await bulk.abort();
    throw error;
  }
  return {
    write: (copy) => streams.write(copy),
    async finish(onPhase) {
      try {
        await streams.end();
      } catch (error) {
        await bulk.abort();
        throw error;
      }
      await bulk.finish(onPhase);
    },
    async abort() {
      // Ending the connections mid-COPY aborts each COPY: none of its rows is committed.
      await streams.abort();
      await bulk.abort();
    },
  };
}
