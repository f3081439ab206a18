/**
 * The transient store (一時保管): short-lived sensitive items, such as online applications carrying
 * My Numbers that the linkage server holds only until they are handed over. Each item is encrypted under
 * its own random key; that key is stored only wrapped by the municipality's key provider, in a row of its
 * own, so that erasing an item deletes the ciphertext and destroys its key in one transaction.
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE transient_item (
      item_id uuid PRIMARY KEY,
      lg_code char(6) NOT NULL REFERENCES municipality,
      purpose text NOT NULL,
      ciphertext bytea NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      CHECK (expires_at > created_at)
    );
    CREATE INDEX transient_item_expiry ON transient_item (expires_at);
    COMMENT ON TABLE transient_item IS 'Short-lived sensitive items (e.g. online applications with My Numbers, held by the linkage server until handed over; PIA: erased completely at once)';
    COMMENT ON COLUMN transient_item.purpose IS 'What the item is for (e.g. onlineApplication); no personal data';
    COMMENT ON COLUMN transient_item.ciphertext IS 'The item (personal data, may include 個人番号: Number Act art. 9, 19), AES-256-GCM under the item''s own key, bound to municipality, purpose and item id';

    CREATE TABLE transient_key (
      item_id uuid PRIMARY KEY REFERENCES transient_item ON DELETE CASCADE,
      lg_code char(6) NOT NULL REFERENCES municipality,
      kek_id text NOT NULL,
      wrapped bytea NOT NULL
    );
    COMMENT ON TABLE transient_key IS 'Each transient item''s own data key, only in wrapped form (by the municipality''s key provider); deleted with the item';
    COMMENT ON COLUMN transient_key.wrapped IS 'The item key wrapped by the key-encryption key named in kek_id; without it the item cannot be decrypted';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE transient_key;
    DROP TABLE transient_item;
  `.execute(db);
}
