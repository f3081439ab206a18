/**
 * A change row carries the persons it counts in the flows of the annual statistics (issue 7, measured with
 * `npm run bench`).
 *
 * The flows (住民基本台帳関係年報: persons in and out by reason and kind over a period) counted, for each
 * valid change of the period, its snapshots that the change entered (履歴番号 1), removed, or whose address
 * it set. That read every snapshot of a year's changes from the history's heap: at 4M residents 715,000
 * rows, at random where the history lies in person order (a bulk load), 4.7 s with the pages cached and
 * over a minute without — and an annual report rarely finds its pages cached. The snapshots are
 * append-only, so what they count is known when the change is written: the change row now holds it, by
 * kind (japanese: every person not foreign), and the flows read the change rows alone.
 *
 * Rows written before are counted here from their snapshots, with the rule the flows used; the columns
 * are then NOT NULL, so a writer that forgot them fails instead of counting nobody. This reads the whole
 * history once and rewrites every change row: at 4M residents (5.5M changes) 10 minutes, and the table
 * keeps the old rows' space until VACUUM makes it reusable. Down drops the columns.
 *
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE change ADD COLUMN flow_japanese integer, ADD COLUMN flow_foreign integer`.execute(db);
  await sql`COMMENT ON COLUMN change.flow_japanese IS ${sql.lit(
    'Persons not foreign that this change entered (履歴番号 1), removed, or whose address it set on its effective date: its count in the flows of the annual statistics',
  )}`.execute(db);
  await sql`COMMENT ON COLUMN change.flow_foreign IS ${sql.lit(
    'As flow_japanese, for foreign residents',
  )}`.execute(db);
  // The change rows are append-only; this one-time fill is the migration's own.
  await sql`ALTER TABLE change DISABLE TRIGGER change_append_only`.execute(db);
  await sql`
    UPDATE change c
       SET flow_japanese = coalesce(f.japanese, 0), flow_foreign = coalesce(f.foreign_, 0)
      FROM change c0
      LEFT JOIN (
        SELECT h.change_id,
               count(*) FILTER (WHERE h.record->>'kind' IS DISTINCT FROM 'foreign') AS japanese,
               count(*) FILTER (WHERE h.record->>'kind' = 'foreign') AS foreign_
          FROM resident_history_all h
          JOIN change x ON x.change_id = h.change_id
         WHERE CASE x.change_kind
                 WHEN 'entry' THEN h.history_seq = 1
                 WHEN 'removal' THEN h.status <> 'current'
                 ELSE h.record->>'addressSetOn' = x.effective_date::text
               END
         GROUP BY h.change_id
      ) f ON f.change_id = c0.change_id
     WHERE c.change_id = c0.change_id`.execute(db);
  await sql`ALTER TABLE change ENABLE TRIGGER change_append_only`.execute(db);
  await sql`ALTER TABLE change ALTER COLUMN flow_japanese SET NOT NULL,
                               ALTER COLUMN flow_foreign SET NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE change DROP COLUMN flow_japanese, DROP COLUMN flow_foreign`.execute(db);
}
