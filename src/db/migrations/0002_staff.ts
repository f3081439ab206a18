/**
 * Staff accounts, their permissions per function (one municipality per grant) and server-side sessions.
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE staff (
      staff_id text PRIMARY KEY,
      lg_code char(6) NOT NULL REFERENCES municipality,
      login_name text NOT NULL,
      display_name text NOT NULL,
      family_name text NOT NULL,
      address text,
      password_hash text NOT NULL,
      totp_secret text NOT NULL,
      totp_last_step bigint,
      failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
      locked_at timestamptz,
      disabled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL,
      UNIQUE (lg_code, login_name),
      -- Lets grants and sessions name the municipality together with the staff member.
      UNIQUE (lg_code, staff_id)
    );
    COMMENT ON TABLE staff IS 'Staff accounts (職員): one municipality each; access only after password and second factor';
    COMMENT ON COLUMN staff.login_name IS 'Sign-in name (personal data: identifies the staff member; needed to authenticate)';
    COMMENT ON COLUMN staff.display_name IS 'Name shown in the UI and to auditors (personal data; accountability of access, PIA §9)';
    COMMENT ON COLUMN staff.family_name IS 'Surname (personal data): monitoring flags records that share surname and address with the operator';
    COMMENT ON COLUMN staff.address IS 'Home address (personal data, optional): monitoring flags records that share surname and address with the operator';
    COMMENT ON COLUMN staff.password_hash IS 'Argon2id hash of the password (authentication secret; never the password itself)';
    COMMENT ON COLUMN staff.totp_secret IS 'TOTP shared secret, base32 (authentication secret). Issue 6 encrypts it with the municipality''s keys';
    COMMENT ON COLUMN staff.totp_last_step IS 'Last accepted TOTP time step: a code is accepted once only (replay protection)';

    CREATE TABLE staff_permission (
      lg_code char(6) NOT NULL,
      staff_id text NOT NULL,
      permission text NOT NULL,
      granted_by text NOT NULL,
      granted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (lg_code, staff_id, permission),
      FOREIGN KEY (lg_code, staff_id) REFERENCES staff (lg_code, staff_id)
    );
    COMMENT ON TABLE staff_permission IS 'Permissions per function granted to a staff member, for one municipality';

    CREATE TABLE staff_session (
      session_id_hash text PRIMARY KEY,
      lg_code char(6) NOT NULL,
      staff_id text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'active', 'ended')),
      csrf_token text NOT NULL,
      terminal_id text NOT NULL,
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      ended_at timestamptz,
      end_reason text,
      FOREIGN KEY (lg_code, staff_id) REFERENCES staff (lg_code, staff_id),
      CHECK ((state = 'ended') = (ended_at IS NOT NULL))
    );
    CREATE INDEX staff_session_open ON staff_session (lg_code, staff_id) WHERE state <> 'ended';
    COMMENT ON TABLE staff_session IS 'Server-side staff sessions; the key is a SHA-256 of the cookie value, never the value';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE staff_session;
    DROP TABLE staff_permission;
    DROP TABLE staff;
  `.execute(db);
}
