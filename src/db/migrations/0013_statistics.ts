/**
 * Annual statistics (住民基本台帳関係年報): what the aggregates need to run over millions of residents
 * without reading every full record.
 *
 * - change (lg_code, effective_date) covering what the counts read: the changes after a day (the as-of
 *   reconstruction) and those of a period (the flows).
 * - Three generated columns on the current-record index (resident, and resident_archive which has the same
 *   shape): sex, date of birth (or its sort key) and the address up to the lot number (the area), all derived
 *   from `record`, so every writer — changes, bulk loads, the archive — keeps them without knowing them.
 * - A covering partial index of the current persons with those columns, so the stock is an index-only scan
 *   (about 100 bytes a person instead of the whole record). VACUUM after a bulk load sets the visibility map.
 *
 * resident_all is re-created with the new columns (appended, so CREATE OR REPLACE keeps dependants valid).
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Covering: the change table is insert-only (all-visible after vacuum), so these reads never touch the
  // payloads in its heap.
  await sql`
    CREATE INDEX change_lg_effective ON change (lg_code, effective_date)
      INCLUDE (change_id, change_kind, reason, cancels_change_id)
  `.execute(db);
  for (const table of ['resident', 'resident_archive']) {
    await sql`
      ALTER TABLE ${sql.table(table)}
        ADD COLUMN stat_sex text GENERATED ALWAYS AS (record->>'sex') STORED,
        ADD COLUMN stat_birth text
          GENERATED ALWAYS AS (coalesce(record->'birthDate'->>'date', record->'birthDate'->>'sortKey')) STORED,
        ADD COLUMN stat_area text
          GENERATED ALWAYS AS (substring(record->'address'->>'text' FROM '^[^0-9０-９]*')) STORED
    `.execute(db);
    await sql`
      CREATE INDEX ${sql.id(`${table}_statistics`)} ON ${sql.table(table)} (lg_code, household_no)
        INCLUDE (person_no, kind, stat_sex, stat_birth, stat_area, planned_move_out)
        WHERE status = 'current'
    `.execute(db);
    await sql`
      COMMENT ON COLUMN ${sql.raw(`${table}.stat_sex`)} IS 'Sex (Act art. 7 item 3), derived from record for the annual statistics (Act art. 37 reports)';
      COMMENT ON COLUMN ${sql.raw(`${table}.stat_birth`)} IS 'Date of birth or its sort key (Act art. 7 item 2), derived from record for the annual statistics';
      COMMENT ON COLUMN ${sql.raw(`${table}.stat_area`)} IS 'Address up to the lot number (ward and 町丁目; Act art. 7 item 7), derived from record for the annual statistics';
    `.execute(db);
  }
  await sql`
    CREATE OR REPLACE VIEW resident_all AS SELECT * FROM resident UNION ALL SELECT * FROM resident_archive
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP VIEW resident_all;
    DROP INDEX resident_archive_statistics;
    DROP INDEX resident_statistics;
    ALTER TABLE resident_archive DROP COLUMN stat_sex, DROP COLUMN stat_birth, DROP COLUMN stat_area;
    ALTER TABLE resident DROP COLUMN stat_sex, DROP COLUMN stat_birth, DROP COLUMN stat_area;
    CREATE VIEW resident_all AS SELECT * FROM resident UNION ALL SELECT * FROM resident_archive;
    DROP INDEX change_lg_effective;
  `.execute(db);
}
