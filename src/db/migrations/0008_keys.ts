/**
 * Keys (envelope encryption): each municipality's data keys, kept only wrapped by the key provider's
 * key-encryption key (KEK), and the 個人番号 of the history taken out of clear text — a keyed blind index
 * for search and an AES-256-GCM ciphertext replace the clear column. Staff TOTP secrets are from now on
 * stored encrypted too (same column, base64 ciphertext). Frozen in time: never import app code.
 *
 * SQL cannot encrypt (the keys are not in the database), so this migration refuses to run on a database
 * that already holds 個人番号 or TOTP secrets in clear. Jumin had no production deployment before this migration: delete
 * the embedded demo database (`data/`) and start again, or load the data afresh.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM resident_history WHERE my_number IS NOT NULL)
        OR EXISTS (SELECT 1 FROM resident WHERE record ? 'myNumber')
        OR EXISTS (SELECT 1 FROM change WHERE payload::text LIKE '%"myNumber"%')
        OR EXISTS (SELECT 1 FROM outbox WHERE payload::text LIKE '%"myNumber"%')
        OR EXISTS (SELECT 1 FROM staff)
      THEN
        RAISE EXCEPTION 'migration 0008_keys: this database holds 個人番号 or staff TOTP secrets in clear, which SQL cannot encrypt. Jumin had no production deployments before this migration: delete the embedded demo database (the data/ folder, or JUMIN_DATA_DIR) and start again, or recreate the PostgreSQL database and load the data afresh.';
      END IF;
    END
    $$;

    CREATE TABLE data_key (
      lg_code char(6) NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('field', 'index')),
      version integer NOT NULL CHECK (version >= 1),
      kek_id text NOT NULL,
      wrapped bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      rewrapped_at timestamptz,
      PRIMARY KEY (lg_code, purpose, version)
    );
    CREATE INDEX data_key_kek ON data_key (kek_id);
    COMMENT ON TABLE data_key IS 'Per-municipality data keys (field encryption, blind index), stored only wrapped by the key provider''s KEK, which is held outside the database';
    COMMENT ON COLUMN data_key.wrapped IS 'The data key encrypted under the KEK named by kek_id (never in clear)';

    DROP INDEX resident_history_my_number;
    ALTER TABLE resident_history
      DROP COLUMN my_number,
      ADD COLUMN my_number_index bytea,
      ADD COLUMN my_number_enc bytea,
      ADD CONSTRAINT resident_history_my_number_both CHECK ((my_number_index IS NULL) = (my_number_enc IS NULL));
    CREATE INDEX resident_history_my_number_index ON resident_history (lg_code, my_number_index)
      WHERE my_number_index IS NOT NULL;
    COMMENT ON COLUMN resident_history.my_number_index IS 'Keyed blind index (HMAC-SHA256 under the municipality''s index key) of the 個人番号, for search (Act art. 7 item 8-2; Number Act art. 9 Appendix 1)';
    COMMENT ON COLUMN resident_history.my_number_enc IS '個人番号, AES-256-GCM under the municipality''s data key, bound to (lg_code, table, column, person_no, history_seq) (Act art. 7 item 8-2; Number Act art. 9 Appendix 1)';
    COMMENT ON COLUMN resident_history.record IS 'All 住民票 items at this point in history except the 個人番号, which is only in my_number_enc (Act art. 7, 30-45)';
    COMMENT ON COLUMN staff.totp_secret IS 'TOTP shared secret (authentication secret), AES-256-GCM under the municipality''s data key, bound to (lg_code, table, column, staff_id), base64';
    COMMENT ON COLUMN resident.record IS '住民票 items of the current snapshot except the 個人番号 (in resident_history.my_number_enc) (Act art. 7, 30-45)';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM resident_history WHERE my_number_enc IS NOT NULL) OR EXISTS (SELECT 1 FROM staff) THEN
        RAISE EXCEPTION 'migration 0008_keys cannot be reverted: 個人番号 and TOTP secrets are stored encrypted and SQL cannot decrypt them';
      END IF;
    END
    $$;
    DROP INDEX resident_history_my_number_index;
    ALTER TABLE resident_history
      DROP CONSTRAINT resident_history_my_number_both,
      DROP COLUMN my_number_index,
      DROP COLUMN my_number_enc,
      ADD COLUMN my_number char(12);
    CREATE INDEX resident_history_my_number ON resident_history (lg_code, my_number);
    COMMENT ON COLUMN resident_history.my_number IS '個人番号 for search (Act art. 7 item 8-2; Number Act art. 9 Appendix 1)';
    COMMENT ON COLUMN staff.totp_secret IS 'TOTP shared secret, base32 (authentication secret). Issue 6 encrypts it with the municipality''s keys';
    DROP TABLE data_key;
  `.execute(db);
}
