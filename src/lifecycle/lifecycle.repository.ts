/**
 * Queries shared by the lifecycle jobs (archive, purge): the job lock, the record of yearly runs, the
 * columns of a table from the catalog, and the scan of every table for traces of persons.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { textArray, type Database, type Db } from '../db/index.js';
import { DomainError } from '../shared/index.js';

export type Trx = Transaction<Database>;
export type Executor = Kysely<Database> | Trx;

/**
 * Runs `work` on one connection holding the municipality's lifecycle lock (a session advisory lock), so
 * that the archive and the purge never run twice at once or over each other. Refuses when it is held.
 */
export async function withLifecycleLock<T>(
  db: Db,
  lgCode: string,
  work: (conn: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    const key = `jumin:lifecycle:${lgCode}`;
    const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(hashtext(${key})) AS ok`.execute(
      conn,
    );
    if (rows[0]?.ok !== true) {
      throw new DomainError(
        'LIFECYCLE_JOB_RUNNING',
        '除票の保存・消去の処理が実行中です。終了してから実行してください。',
        { lgCode },
      );
    }
    try {
      return await work(conn);
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtext(${key}))`.execute(conn);
    }
  });
}

export async function findRun(
  db: Executor,
  lgCode: string,
  job: 'archive' | 'purge',
  period: number,
): Promise<{ finishedAt: Date; persons: number; accessLogSeq: number | null } | undefined> {
  const row = await db
    .selectFrom('lifecycle_run')
    .select(['finished_at', 'persons', 'access_log_seq'])
    .where('lg_code', '=', lgCode)
    .where('job', '=', job)
    .where('period', '=', period)
    .executeTakeFirst();
  return row
    ? { finishedAt: row.finished_at, persons: row.persons, accessLogSeq: row.access_log_seq }
    : undefined;
}

/** Records a yearly run as done; a second run of the same period keeps the first record. */
export async function recordRun(
  trx: Trx,
  run: {
    lgCode: string;
    job: 'archive' | 'purge';
    period: number;
    finishedAt: Date;
    staffId: string;
    persons: number;
    accessLogSeq: number;
  },
): Promise<void> {
  await trx
    .insertInto('lifecycle_run')
    .values({
      lg_code: run.lgCode,
      job: run.job,
      period: run.period,
      finished_at: run.finishedAt,
      staff_id: run.staffId,
      persons: run.persons,
      access_log_seq: run.accessLogSeq,
    })
    .onConflict((oc) => oc.columns(['lg_code', 'job', 'period']).doNothing())
    .execute();
}

/** Column names of a table of the current schema, in order (read from the catalog); generated columns left out. */
export async function tableColumns(db: Executor, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT a.attname AS name
    FROM pg_attribute a
    WHERE a.attrelid = (quote_ident(current_schema()) || '.' || quote_ident(${table}))::regclass
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    ORDER BY a.attnum`.execute(db);
  return rows.map((r) => r.name);
}

/** Every ordinary table of the current schema, from the catalog: tables added later are covered too. */
export async function schemaTables(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r'
    ORDER BY c.relname`.execute(db);
  return rows.map((r) => r.name);
}

/**
 * Whether a row's JSON text holds one of `tokens` as a whole word (a maximal run of letters and digits),
 * so that 宛名番号 0000001234 is not found inside a longer number. 世帯番号 have the same format as 宛名番号
 * (serial + check digit, from another counter), so values under a key naming a household (household_no,
 * householdNo, …) are left out first. Used in WHERE clauses.
 */
export function holdsToken(rowText: RawBuilder<string>, tokens: readonly string[]): RawBuilder<boolean> {
  const withoutHouseholds = sql<string>`regexp_replace(${rowText},
    '"[A-Za-z_]*[Hh]ousehold[A-Za-z_]*": ?("[^"]*"|\[[^]]*\])', '', 'g')`;
  return sql<boolean>`EXISTS (
    SELECT 1 FROM regexp_matches(${withoutHouseholds}, '[0-9A-Za-z]+', 'g') AS m(tok)
    WHERE m.tok[1] = ANY(${textArray(tokens)}))`;
}

/**
 * Tables whose rows' text should leave a column out of the scan, with the reason. The access log's chain
 * covers target_persons: an entry cannot be changed or removed without breaking the chain, so the
 * 宛名番号 of whom was looked at stays there (and only there) after a purge.
 */
export const SCAN_EXCEPTIONS: Readonly<Record<string, string>> = { access_log: 'target_persons' };

export interface TraceScan {
  tablesScanned: number;
  /** Tables where a row still holds one of the tokens (or texts), with the number of rows. */
  traces: Array<{ table: string; rows: number }>;
}

/**
 * Scans every table of the schema for rows whose JSON text holds one of `tokens` as a whole word, or
 * contains one of `texts`. Reads every row of every table: for the yearly purge and for tests.
 */
export async function scanForTraces(
  db: Executor,
  needles: { tokens: readonly string[]; texts?: readonly string[] },
): Promise<TraceScan> {
  const tables = await schemaTables(db);
  const traces: TraceScan['traces'] = [];
  const texts = needles.texts ?? [];
  if (needles.tokens.length === 0 && texts.length === 0) return { tablesScanned: tables.length, traces };
  for (const table of tables) {
    const except = SCAN_EXCEPTIONS[table];
    const rowText = except ? sql<string>`(to_jsonb(t) - ${except})::text` : sql<string>`row_to_json(t)::text`;
    const conditions = [];
    if (needles.tokens.length > 0) conditions.push(holdsToken(rowText, needles.tokens));
    if (texts.length > 0) {
      const patterns = texts.map((s) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      conditions.push(sql<boolean>`${rowText} LIKE ANY(${textArray(patterns)})`);
    }
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(table)} AS t
      WHERE ${sql.join(conditions, sql` OR `)}`.execute(db);
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) traces.push({ table, rows: n });
  }
  return { tablesScanned: tables.length, traces };
}
