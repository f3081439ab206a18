/**
 * The history's change_id index carries each snapshot's person and 履歴番号 (issue 7, measured with
 * `npm run bench`).
 *
 * The annual statistics find the persons changed after the stock day through the snapshots of the changes
 * dated after it (statistics.repository.ts, "later"): tens of thousands of snapshots, each read from the
 * heap for its person and 履歴番号 — at random, where the history lies in person order (a bulk load). With
 * both in the index the look-up is read from the index alone (the history is append-only, so VACUUM keeps
 * its pages all-visible). The entries are added at the index's right end (change ids ascend), so a change
 * pays little more for them.
 *
 * Down puts the plain index back.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

const INDEXES = [
  ['resident_history', 'resident_history_change'],
  ['resident_history_archive', 'resident_history_archive_change_id_idx'],
] as const;

async function recreate(db: Kysely<unknown>, covering: boolean): Promise<void> {
  for (const [table, index] of INDEXES) {
    await sql`DROP INDEX ${sql.id(index)}`.execute(db);
    await sql`CREATE INDEX ${sql.id(index)} ON ${sql.table(table)} (change_id)
      ${covering ? sql`INCLUDE (person_no, history_seq)` : sql``}`.execute(db);
  }
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await recreate(db, true);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await recreate(db, false);
}
