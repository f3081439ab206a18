/**
 * Edit locks (排他制御): while one staff member edits a person, others may only read. A lock ends at commit,
 * at cancel, or when it expires. Not history: rows are deleted when the lock ends.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE edit_lock (
      lg_code char(6) NOT NULL REFERENCES municipality,
      person_no char(10) NOT NULL,
      staff_id text NOT NULL,
      session_id text,
      acquired_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (lg_code, person_no)
    );
    COMMENT ON TABLE edit_lock IS 'Who is editing which person now (exclusive edit lock required by the PIA)';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE edit_lock`.execute(db);
}
