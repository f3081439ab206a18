/**
 * What backups ask of the database: the tables of the current schema read from the catalog (so tables
 * added by later migrations are included without a change here), their rows through a cursor in batches
 * (a table is never held in memory), inserts of restored rows, and sequences.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** Kysely's own tables: a restore writes the source's rows over the ones its migrations just wrote. */
export const MIGRATION_TABLES: readonly string[] = ['kysely_migration', 'kysely_migration_lock'];

export interface TableInfo {
  readonly name: string;
  /** Columns a restore writes: every column but generated ones, in table order. */
  readonly columns: readonly string[];
  /** Tables this one references (foreign keys), itself excluded. */
  readonly references: readonly string[];
}

/**
 * The ordinary tables of the session's current schema, parents before children (foreign-key order), so
 * that inserting them in this order never violates a reference. Tables of extensions are left out.
 */
export async function describeTables(db: Executor): Promise<TableInfo[]> {
  const tables = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relname`.execute(db);
  const columns = await sql<{ table: string; column: string }>`
    SELECT c.relname AS table, a.attname AS column FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
      AND a.attgenerated = ''
    ORDER BY c.relname, a.attnum`.execute(db);
  const references = await sql<{ table: string; parent: string }>`
    SELECT DISTINCT c.relname AS table, p.relname AS parent FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
    WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND k.conrelid <> k.confrelid
    ORDER BY 1, 2`.execute(db);

  const infos = new Map<string, { name: string; columns: string[]; references: string[] }>();
  for (const t of tables.rows) infos.set(t.name, { name: t.name, columns: [], references: [] });
  for (const c of columns.rows) infos.get(c.table)?.columns.push(c.column);
  for (const r of references.rows) {
    if (infos.has(r.parent)) infos.get(r.table)?.references.push(r.parent);
  }
  return foreignKeyOrder([...infos.values()]);
}

/** Parents first; ties in name order. Tables in a reference cycle follow in name order. */
function foreignKeyOrder(tables: TableInfo[]): TableInfo[] {
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  let remaining = [...tables].sort((a, b) => (a.name < b.name ? -1 : 1));
  while (remaining.length > 0) {
    const ready = remaining.filter((t) => t.references.every((r) => placed.has(r)));
    const next = ready.length > 0 ? ready : remaining.slice(0, 1);
    for (const t of next) {
      ordered.push(t);
      placed.add(t.name);
    }
    remaining = remaining.filter((t) => !placed.has(t.name));
  }
  return ordered;
}

/**
 * Settings that make a row's text the same on every server: instants in UTC, intervals in one style.
 * For the current transaction only.
 */
export async function stableTextSettings(trx: Transaction<Database>): Promise<void> {
  await sql`SET LOCAL TIME ZONE 'UTC'`.execute(trx);
  await sql`SET LOCAL IntervalStyle = 'postgres'`.execute(trx);
}

const CURSOR = 'jumin_backup_cursor';

/**
 * A table's rows as JSON text (`to_jsonb`), a batch at a time, through a cursor in the caller's
 * transaction (on PostgreSQL a repeatable-read snapshot gives every table the same moment). Rows come in
 * the table's physical order: one sequential pass, no sort.
 */
export async function* scanTable(
  trx: Transaction<Database>,
  table: string,
  batchRows: number,
): AsyncGenerator<string[]> {
  await sql`DECLARE ${sql.raw(CURSOR)} NO SCROLL CURSOR FOR
    SELECT to_jsonb(jumin_backup_row)::text AS row FROM ${sql.id(table)} AS jumin_backup_row`.execute(trx);
  try {
    for (;;) {
      const { rows } = await sql<{ row: string }>`FETCH FORWARD ${sql.raw(String(batchRows))} FROM ${sql.raw(
        CURSOR,
      )}`.execute(trx);
      if (rows.length === 0) return;
      yield rows.map((r) => r.row);
      if (rows.length < batchRows) return;
    }
  } finally {
    await sql`CLOSE ${sql.raw(CURSOR)}`.execute(trx);
  }
}

/**
 * Inserts restored rows (JSON texts as written by scanTable). Identity values are kept as they were
 * (OVERRIDING SYSTEM VALUE); append-only triggers refuse only updates and deletes, so inserting is allowed.
 */
export async function insertRows(
  trx: Transaction<Database>,
  table: TableInfo,
  rows: readonly string[],
): Promise<void> {
  const columns = sql.join(table.columns.map((c) => sql.id(c)));
  const json = `[${rows.join(',')}]`;
  await sql`INSERT INTO ${sql.id(table.name)} (${columns}) OVERRIDING SYSTEM VALUE
    SELECT ${columns} FROM jsonb_populate_recordset(NULL::${sql.id(table.name)}, ${json}::jsonb)`.execute(
    trx,
  );
}

/** Empties a table a migration filled (Kysely's migration tables), before the source's rows are written. */
export async function clearTable(trx: Transaction<Database>, table: string): Promise<void> {
  await sql`DELETE FROM ${sql.id(table)}`.execute(trx);
}

/** The tables (migration tables aside) that hold at least one row. */
export async function tablesWithRows(db: Executor, tables: readonly TableInfo[]): Promise<string[]> {
  const filled: string[] = [];
  for (const t of tables) {
    if (MIGRATION_TABLES.includes(t.name)) continue;
    const { rows } = await sql<{ filled: boolean }>`
      SELECT EXISTS (SELECT 1 FROM ${sql.id(t.name)}) AS filled`.execute(db);
    if (rows[0]?.filled) filled.push(t.name);
  }
  return filled;
}

/** The names of the migrations applied to a database, in order. */
export async function appliedMigrations(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.map((r) => r.name);
}

/** Sequences of the current schema that no column owns (identity and serial ones follow their column). */
export async function freeSequences(
  trx: Transaction<Database>,
): Promise<{ name: string; value: number; isCalled: boolean }[]> {
  const { rows: names } = await sql<{ name: string }>`
    SELECT s.relname AS name FROM pg_class s
    WHERE s.relnamespace = current_schema()::regnamespace AND s.relkind = 'S'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
                      AND d.deptype IN ('a', 'i', 'e'))
    ORDER BY 1`.execute(trx);
  const values: { name: string; value: number; isCalled: boolean }[] = [];
  for (const { name } of names) {
    const { rows } = await sql<{ value: string | number; isCalled: boolean }>`
      SELECT last_value AS value, is_called AS "isCalled" FROM ${sql.id(name)}`.execute(trx);
    const r = rows[0];
    if (r) values.push({ name, value: Number(r.value), isCalled: r.isCalled });
  }
  return values;
}

export async function setSequence(
  trx: Transaction<Database>,
  s: { name: string; value: number; isCalled: boolean },
): Promise<void> {
  await sql`SELECT setval(${quoteIdent(s.name)}::text::regclass, ${s.value}::bigint, ${s.isCalled})`.execute(
    trx,
  );
}

/** Moves every identity and serial sequence of the current schema past the highest value restored. */
export async function resetOwnedSequences(trx: Transaction<Database>): Promise<void> {
  const { rows } = await sql<{ table: string; column: string; sequence: string }>`
    SELECT t.relname AS table, a.attname AS column, s.relname AS sequence
    FROM pg_class s
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace
    ORDER BY 1, 2`.execute(trx);
  for (const r of rows) {
    await sql`SELECT setval(
        ${quoteIdent(r.sequence)}::text::regclass,
        (SELECT max(${sql.id(r.column)}) FROM ${sql.id(r.table)}))
      WHERE EXISTS (SELECT 1 FROM ${sql.id(r.table)})`.execute(trx);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Municipality codes, for the access-log entries and alerts a backup writes. */
export async function municipalityCodes(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('municipality').select('lg_code').orderBy('lg_code').execute();
  return rows.map((r) => r.lg_code);
}
