/**
 * The number indexes of the history hold a snapshot only where its numbers changed (issue 7, measured with
 * `npm run bench`; the sequel of 0017).
 *
 * Every snapshot added an entry for its 個人番号 blind index and its 住民票コード, though these change
 * rarely: two more random index pages for each person a change writes. The columns keep their values in
 * every snapshot (the check that a number is free reads the current snapshot's, and a snapshot's 個人番号
 * is shown with it), but the indexes now cover only the snapshots flagged `numbers_new`: a person's first
 * snapshot and each one whose 個人番号 or 住民票コード differs from the previous snapshot's. Search by
 * number asks whether a person ever had it, which one flagged snapshot answers; the free-number check
 * finds the persons that ever had the number, then looks at their current snapshots. Rows written before
 * are flagged (true), as they were all indexed.
 *
 * Down drops the flag and indexes every snapshot again; nothing is lost.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const TABLES = ['resident_history', 'resident_history_archive'] as const;

/** Each table's number indexes: name, column, and the predicate it had before (none: every row). */
const INDEXES: Record<(typeof TABLES)[number], ReadonlyArray<readonly [string, string, string]>> = {
  resident_history: [
    ['resident_history_my_number_index', 'my_number_index', 'my_number_index IS NOT NULL'],
    ['resident_history_resident_code', 'resident_code', ''],
  ],
  resident_history_archive: [
    [
      'resident_history_archive_lg_code_my_number_index_idx',
      'my_number_index',
      'my_number_index IS NOT NULL',
    ],
    ['resident_history_archive_lg_code_resident_code_idx', 'resident_code', ''],
  ],
};

async function createIndexes(db: Kysely<unknown>, table: string, flagged: boolean): Promise<void> {
  for (const [index, column, before] of INDEXES[table as (typeof TABLES)[number]]) {
    const where = flagged ? `${column} IS NOT NULL AND numbers_new` : before;
    await sql`DROP INDEX IF EXISTS ${sql.id(index)}`.execute(db);
    await sql`CREATE INDEX ${sql.id(index)} ON ${sql.table(table)} (lg_code, ${sql.ref(column)})
      ${where ? sql.raw(`WHERE ${where}`) : sql``}`.execute(db);
  }
}

const VIEW = sql`CREATE VIEW resident_history_all AS
  SELECT * FROM resident_history UNION ALL SELECT * FROM resident_history_archive`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP VIEW resident_history_all`.execute(db);
  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ADD COLUMN numbers_new boolean NOT NULL DEFAULT true`.execute(
      db,
    );
    await sql`COMMENT ON COLUMN ${sql.raw(`${table}.numbers_new`)} IS ${sql.lit(
      "True for a person's first snapshot and where the 個人番号 or 住民票コード differs from the previous snapshot; only these are in the number indexes",
    )}`.execute(db);
    await createIndexes(db, table, true);
  }
  await VIEW.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP VIEW resident_history_all`.execute(db);
  for (const table of TABLES) {
    await createIndexes(db, table, false);
    await sql`ALTER TABLE ${sql.table(table)} DROP COLUMN numbers_new`.execute(db);
  }
  await VIEW.execute(db);
}
