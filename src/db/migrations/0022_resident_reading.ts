/**
 * The current records by reading (issue 7, measured with `npm run bench`).
 *
 * A search by the start of a reading (サトウ タ) finds its persons in the history's prefix index, then
 * lists them in their current kana order from the resident primary key (0021): one key leaf a person,
 * about 1,500 at random at 4 million residents. Warm, that is most of the search's 40 ms; with the key's
 * pages not cached (right after a load or a restart) it is hundreds of milliseconds. Most of those persons
 * read so now: a range of this index, in kana order, a few leaves. Only the persons found by another name
 * or a past reading are still looked up by key.
 *
 * text_pattern_ops as the history's prefix indexes (0014): the same `~>=~` / `~<~` range answers both. Each
 * update of a current record that is not HOT adds an entry here too; moves within at 4M were not
 * measurably slower with it (alternating runs, 363–474/s with and 414–431/s without).
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const TABLES = ['resident', 'resident_archive'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`CREATE INDEX ${sql.id(`${table}_reading`)} ON ${sql.table(table)}
      (lg_code, kana_sort text_pattern_ops) INCLUDE (person_no, status)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql`DROP INDEX ${sql.id(`${table}_reading`)}`.execute(db);
}
