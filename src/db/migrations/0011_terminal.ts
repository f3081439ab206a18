/**
 * Registered terminals (端末): an administrator registers a browser as a named terminal; the browser keeps a
 * random token in a cookie, the database only its SHA-256. Logs, changes and certificate issue numbers then
 * name the terminal. Revoked terminals are kept (revoked_at set) so old log entries still resolve.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE terminal (
      lg_code char(6) NOT NULL REFERENCES municipality,
      terminal_id text NOT NULL,
      name text NOT NULL,
      token_hash char(64) NOT NULL UNIQUE,
      registered_by text NOT NULL,
      registered_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revoked_by text,
      PRIMARY KEY (lg_code, terminal_id, registered_at)
    );
    CREATE UNIQUE INDEX terminal_active ON terminal (lg_code, terminal_id) WHERE revoked_at IS NULL;
    COMMENT ON TABLE terminal IS 'Terminals registered by an administrator: which terminal a request comes from, for the access log and issue numbers (PIA: logs name the terminal)';
    COMMENT ON COLUMN terminal.token_hash IS 'SHA-256 of the random token in the terminal cookie; the token itself is never stored';
    COMMENT ON COLUMN terminal.registered_by IS 'Staff id of the administrator who registered the terminal (accountability)';
    COMMENT ON COLUMN terminal.revoked_by IS 'Staff id of the administrator who revoked the terminal (accountability)';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE terminal`.execute(db);
}
