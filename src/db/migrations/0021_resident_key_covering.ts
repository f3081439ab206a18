/**
 * The current records' primary keys carry each person's kana order and status (issue 7, measured with
 * `npm run bench`).
 *
 * A search by the start of a reading (サトウ タ) finds its persons in the history's prefix index, then
 * orders them by their current reading and counts them: at 4 million residents about 1,500 persons a
 * search, each read from the current-record heap (4.4 GB, pages scattered) for two short columns, while
 * the page shows twenty. With kana_sort and status in the primary key, the listing and the count are read
 * from the key alone (the search then reads the records of its page only). The columns change only with a
 * reading or a status, so an update that could go without new index entries (a HOT update: no indexed
 * column changed) still can; and since the key exists anyway, no other index is kept up to date.
 *
 * Down puts the plain keys back.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const TABLES = [
  ['resident', 'resident_pkey'],
  ['resident_archive', 'resident_archive_pkey'],
] as const;

async function rekey(db: Kysely<unknown>, covering: boolean): Promise<void> {
  for (const [table, key] of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT ${sql.id(key)},
      ADD CONSTRAINT ${sql.id(key)} PRIMARY KEY (lg_code, person_no)
        ${covering ? sql`INCLUDE (kana_sort, status)` : sql``}`.execute(db);
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await rekey(db, true);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await rekey(db, false);
}
