/**
 * The removed-records archive (除票の保存) and the 150-year purge (消去): archive tables of the same row
 * shape as the live ones (resident, resident_history, issuance, issuance_disposal), views over live and
 * archive that search and certificates read, the record of yearly lifecycle runs, and the purge's
 * permission to redact a change or issuance row that a purged person shares with persons who stay.
 * Frozen in time: never import app code.
 *
 * The archive tables are created LIKE their live table at this point (with indexes and column comments):
 * a later migration that adds a column to a live table must add it to its archive table too, and
 * recreate the *_all view.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Like jumin_append_only; in addition the purge (and only the purge, which sets jumin.purge for its own
  // transaction) may redact a change or issuance row that a purged person shares with persons who stay.
  await sql`
    CREATE FUNCTION jumin_append_only_or_purge() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('jumin.purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'DELETE' AND current_setting('jumin.allow_delete', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
    END $$;
    DROP TRIGGER change_append_only ON change;
    CREATE TRIGGER change_append_only BEFORE UPDATE OR DELETE ON change
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only_or_purge();
    DROP TRIGGER issuance_append_only ON issuance;
    CREATE TRIGGER issuance_append_only BEFORE UPDATE OR DELETE ON issuance
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only_or_purge();
  `.execute(db);

  await sql`
    CREATE TABLE resident_archive (LIKE resident INCLUDING ALL EXCLUDING IDENTITY);
    COMMENT ON TABLE resident_archive IS '除票 removed more than five years ago: the current-record index of archived persons (Act enforcement order art. 34; standard: separate removed-records store)';
    COMMENT ON COLUMN resident_archive.record IS '住民票 items of the removed record (Act art. 7, 30-45), kept 150 years from removal';

    CREATE TABLE resident_history_archive (LIKE resident_history INCLUDING ALL EXCLUDING IDENTITY);
    COMMENT ON TABLE resident_history_archive IS 'History snapshots of archived 除票 (same shape as resident_history); insert-only but for the purge';
    CREATE TRIGGER resident_history_archive_append_only BEFORE UPDATE OR DELETE ON resident_history_archive
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE issuance_archive (LIKE issuance INCLUDING ALL EXCLUDING IDENTITY);
    COMMENT ON TABLE issuance_archive IS 'Issuance records whose every subject is archived (same shape as issuance); insert-only but for the purge';
    CREATE TRIGGER issuance_archive_append_only BEFORE UPDATE OR DELETE ON issuance_archive
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only_or_purge();

    CREATE TABLE issuance_disposal_archive (LIKE issuance_disposal INCLUDING ALL EXCLUDING IDENTITY);
    COMMENT ON TABLE issuance_disposal_archive IS 'Disposals of archived issuances (same shape as issuance_disposal)';
    CREATE TRIGGER issuance_disposal_archive_append_only BEFORE UPDATE OR DELETE ON issuance_disposal_archive
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    -- One search covers both stores (standard specification): reads go through these views.
    CREATE VIEW resident_all AS SELECT * FROM resident UNION ALL SELECT * FROM resident_archive;
    CREATE VIEW resident_history_all AS
      SELECT * FROM resident_history UNION ALL SELECT * FROM resident_history_archive;
    CREATE VIEW issuance_all AS SELECT * FROM issuance UNION ALL SELECT * FROM issuance_archive;
    CREATE VIEW issuance_disposal_all AS
      SELECT * FROM issuance_disposal UNION ALL SELECT * FROM issuance_disposal_archive;

    CREATE TABLE lifecycle_run (
      lg_code char(6) NOT NULL REFERENCES municipality,
      job text NOT NULL CHECK (job IN ('archive', 'purge')),
      period integer NOT NULL,
      finished_at timestamptz NOT NULL,
      staff_id text NOT NULL,
      persons integer NOT NULL,
      access_log_seq bigint,
      PRIMARY KEY (lg_code, job, period)
    );
    COMMENT ON TABLE lifecycle_run IS 'Yearly lifecycle jobs done: the archive per calendar year, the purge per fiscal year (so a scheduled run does not repeat)';
    COMMENT ON COLUMN lifecycle_run.access_log_seq IS 'The access-log entry of the run (for the purge: the one holding the signed deletion certificate)';

    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jumin_app') THEN
        REVOKE ALL ON issuance_archive, issuance_disposal_archive FROM jumin_app;
        GRANT SELECT, INSERT ON issuance_archive, issuance_disposal_archive TO jumin_app;
      END IF;
    EXCEPTION
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'privileges of jumin_app on the issuance archive not granted: grant them by hand';
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE lifecycle_run;
    DROP VIEW issuance_disposal_all;
    DROP VIEW issuance_all;
    DROP VIEW resident_history_all;
    DROP VIEW resident_all;
    DROP TABLE issuance_disposal_archive;
    DROP TABLE issuance_archive;
    DROP TABLE resident_history_archive;
    DROP TABLE resident_archive;
    DROP TRIGGER issuance_append_only ON issuance;
    CREATE TRIGGER issuance_append_only BEFORE UPDATE OR DELETE ON issuance
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();
    DROP TRIGGER change_append_only ON change;
    CREATE TRIGGER change_append_only BEFORE UPDATE OR DELETE ON change
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();
    DROP FUNCTION jumin_append_only_or_purge();
  `.execute(db);
}
