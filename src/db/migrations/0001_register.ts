/**
 * The resident register: municipalities, number counters, households, changes (異動), the current-record
 * index, the insert-only history of full snapshots, and the outbox. Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

    -- Refuses UPDATE and DELETE on append-only tables. Only the lifecycle jobs (purge) may set
    -- jumin.allow_delete for their own transaction.
    CREATE FUNCTION jumin_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('jumin.allow_delete', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'P0001';
    END $$;

    CREATE TABLE municipality (
      lg_code char(6) PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    COMMENT ON TABLE municipality IS 'Municipalities served by this deployment (地方公共団体)';

    CREATE TABLE number_counter (
      lg_code char(6) NOT NULL REFERENCES municipality,
      kind text NOT NULL,
      last_value bigint NOT NULL,
      PRIMARY KEY (lg_code, kind)
    );
    COMMENT ON TABLE number_counter IS 'Serials for 宛名番号 and 世帯番号 per municipality';

    CREATE TABLE household (
      lg_code char(6) NOT NULL REFERENCES municipality,
      household_no char(10) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (lg_code, household_no)
    );
    COMMENT ON TABLE household IS '世帯: every household number ever issued; membership lives in the snapshots';

    CREATE TABLE change (
      change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      lg_code char(6) NOT NULL REFERENCES municipality,
      change_type text NOT NULL,
      change_kind text NOT NULL CHECK (change_kind IN ('entry', 'removal', 'correction')),
      reason text NOT NULL,
      effective_date date NOT NULL,
      processed_on date NOT NULL,
      notified_on date,
      staff_id text NOT NULL,
      terminal_id text NOT NULL,
      notes text,
      cancels_change_id bigint REFERENCES change,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX change_cancelled_once ON change (cancels_change_id) WHERE cancels_change_id IS NOT NULL;
    CREATE INDEX change_lg_created ON change (lg_code, change_id);
    COMMENT ON TABLE change IS '異動: every change to the register, with who, where and when (Act art. 8, 9)';
    COMMENT ON COLUMN change.payload IS 'The request as entered (personal data): needed to audit and to certify the change';
    COMMENT ON COLUMN change.notes IS 'Clerk remarks on the change (may hold personal data; Act art. 7 item 14 basis)';
    CREATE TRIGGER change_append_only BEFORE UPDATE OR DELETE ON change
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE resident (
      lg_code char(6) NOT NULL REFERENCES municipality,
      person_no char(10) NOT NULL,
      history_seq integer NOT NULL,
      kind text NOT NULL CHECK (kind IN ('japanese', 'foreign')),
      status text NOT NULL,
      household_no char(10),
      household_order integer,
      relationship text,
      removed_on date,
      planned_move_out date,
      kana_sort text NOT NULL,
      record jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (lg_code, person_no),
      FOREIGN KEY (lg_code, household_no) REFERENCES household (lg_code, household_no)
    );
    CREATE INDEX resident_household ON resident (lg_code, household_no, household_order);
    CREATE INDEX resident_pending_move_out ON resident (lg_code, planned_move_out) WHERE planned_move_out IS NOT NULL;
    COMMENT ON TABLE resident IS 'Index of the current (highest 履歴番号) snapshot of each person; derived, rewritten by every change';
    COMMENT ON COLUMN resident.record IS '住民票 items of the current snapshot (Act art. 7, 30-45): resident register administration';
    COMMENT ON COLUMN resident.kana_sort IS 'Normalised reading for ordering search results (Act art. 7 item 1-2)';

    CREATE TABLE resident_history (
      lg_code char(6) NOT NULL REFERENCES municipality,
      person_no char(10) NOT NULL,
      history_seq integer NOT NULL CHECK (history_seq >= 1),
      change_id bigint NOT NULL REFERENCES change,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      status text NOT NULL,
      household_no char(10),
      name_norm text NOT NULL,
      kana_norm text NOT NULL,
      other_names_norm text NOT NULL,
      address_norm text NOT NULL,
      birth_sort date,
      sex text NOT NULL,
      my_number char(12),
      resident_code char(11),
      residence_card_no text,
      record jsonb NOT NULL,
      PRIMARY KEY (lg_code, person_no, history_seq)
    );
    CREATE INDEX resident_history_change ON resident_history (change_id);
    CREATE INDEX resident_history_name ON resident_history USING gin (name_norm gin_trgm_ops);
    CREATE INDEX resident_history_kana ON resident_history USING gin (kana_norm gin_trgm_ops);
    CREATE INDEX resident_history_other_names ON resident_history USING gin (other_names_norm gin_trgm_ops);
    CREATE INDEX resident_history_address ON resident_history USING gin (address_norm gin_trgm_ops);
    CREATE INDEX resident_history_birth ON resident_history (lg_code, birth_sort);
    CREATE INDEX resident_history_my_number ON resident_history (lg_code, my_number);
    CREATE INDEX resident_history_resident_code ON resident_history (lg_code, resident_code);
    CREATE INDEX resident_history_card ON resident_history (lg_code, residence_card_no);
    CREATE INDEX resident_history_household ON resident_history (lg_code, household_no);
    COMMENT ON TABLE resident_history IS '住民票 history: one full snapshot per change, keyed by (宛名番号, 履歴番号); insert-only';
    COMMENT ON COLUMN resident_history.record IS 'All 住民票 items at this point in history (Act art. 7, 30-45): resident register administration';
    COMMENT ON COLUMN resident_history.name_norm IS 'Normalised name for search (Act art. 7 item 1)';
    COMMENT ON COLUMN resident_history.kana_norm IS 'Normalised reading for search (Act art. 7 item 1-2)';
    COMMENT ON COLUMN resident_history.other_names_norm IS 'Normalised alias and former surname for search (Act art. 7 item 1, 30-45)';
    COMMENT ON COLUMN resident_history.address_norm IS 'Normalised address for search (Act art. 7 item 7)';
    COMMENT ON COLUMN resident_history.birth_sort IS 'Date of birth (or earliest plausible day) for search (Act art. 7 item 2)';
    COMMENT ON COLUMN resident_history.sex IS 'Sex (Act art. 7 item 3)';
    COMMENT ON COLUMN resident_history.my_number IS '個人番号 for search (Act art. 7 item 8-2; Number Act art. 9 Appendix 1)';
    COMMENT ON COLUMN resident_history.resident_code IS '住民票コード for search and Juki-net (Act art. 7 item 13)';
    COMMENT ON COLUMN resident_history.residence_card_no IS '在留カード番号 for search (Act art. 30-45)';
    CREATE TRIGGER resident_history_append_only BEFORE UPDATE OR DELETE ON resident_history
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      lg_code char(6) NOT NULL REFERENCES municipality,
      topic text NOT NULL,
      aggregate_key text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      dispatched_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      last_error text
    );
    CREATE INDEX outbox_pending ON outbox (lg_code, id) WHERE dispatched_at IS NULL;
    COMMENT ON TABLE outbox IS 'Messages to linked systems (Juki-net CS, 団体内統合宛名, 中間サーバ, kiosk), written in the same transaction as the change';
    COMMENT ON COLUMN outbox.payload IS 'Identity information of a change (本人確認情報) for the linked systems (Act art. 30-6)';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE outbox;
    DROP TABLE resident_history;
    DROP TABLE resident;
    DROP TABLE change;
    DROP TABLE household;
    DROP TABLE number_counter;
    DROP TABLE municipality;
    DROP FUNCTION jumin_append_only();
  `.execute(db);
}
