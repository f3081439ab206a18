/**
 * The access log (アクセスログ): insert-only, hash-chained per municipality, sealed by signed checkpoints;
 * the chain head that serialises appends; and the alerts raised by the monitoring rules. Frozen in time:
 * never import app code.
 *
 * Privileges: the application is meant to run as a member of the NOLOGIN role `jumin_app`, which may only
 * read and insert the log and checkpoints (and acknowledge alerts). The role is created here when the
 * migrating user may create roles; otherwise the grants are skipped with a notice and the operator applies
 * them by hand (see the README).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE access_log (
      lg_code char(6) NOT NULL REFERENCES municipality,
      seq bigint NOT NULL CHECK (seq >= 1),
      occurred_at timestamptz NOT NULL,
      staff_id text,
      terminal_id text NOT NULL,
      function text NOT NULL,
      purpose text,
      target_persons text[] NOT NULL DEFAULT '{}',
      my_number_accessed boolean NOT NULL DEFAULT false,
      my_number_printed boolean NOT NULL DEFAULT false,
      outcome text NOT NULL CHECK (outcome IN ('success', 'refused', 'failed')),
      criteria jsonb,
      details jsonb,
      prev_hash text NOT NULL,
      hash text NOT NULL,
      PRIMARY KEY (lg_code, seq)
    );
    CREATE INDEX access_log_staff ON access_log (lg_code, staff_id, occurred_at);
    CREATE INDEX access_log_function ON access_log (lg_code, function, occurred_at);
    CREATE INDEX access_log_terminal ON access_log (lg_code, terminal_id, occurred_at);
    CREATE INDEX access_log_targets ON access_log USING gin (target_persons);
    COMMENT ON TABLE access_log IS 'アクセスログ: every search, inquiry, change, issuance, export, login and batch run; insert-only, hash-chained per municipality (Number Act art. 12 safety measures; PIA)';
    COMMENT ON COLUMN access_log.seq IS 'Position in the municipality''s chain: 1, 2, 3, … without gaps';
    COMMENT ON COLUMN access_log.occurred_at IS 'When the act happened (UTC)';
    COMMENT ON COLUMN access_log.staff_id IS 'Operator (職員ID); null for a failed login naming nobody known. Personal data of staff: kept to audit access (PIA)';
    COMMENT ON COLUMN access_log.terminal_id IS 'Terminal the act came from (PIA: logs name the terminal)';
    COMMENT ON COLUMN access_log.purpose IS 'Purpose chosen before opening a record (利用目的); audit of access (PIA)';
    COMMENT ON COLUMN access_log.target_persons IS '宛名番号 of the persons concerned: personal data, kept to audit who was looked at (Number Act art. 12; PIA)';
    COMMENT ON COLUMN access_log.my_number_accessed IS 'Whether a 個人番号 was shown or used (Number Act art. 12)';
    COMMENT ON COLUMN access_log.my_number_printed IS 'Whether a 個人番号 was printed (Number Act art. 12)';
    COMMENT ON COLUMN access_log.criteria IS 'Search criteria, normalised; names, numbers, addresses and birth dates only as keyed hashes (never in clear)';
    COMMENT ON COLUMN access_log.details IS 'Ids, codes and counts about the act; no names, numbers or addresses in clear';
    COMMENT ON COLUMN access_log.prev_hash IS 'hash of the entry before (64 zeros for the first)';
    COMMENT ON COLUMN access_log.hash IS 'sha256 of prev_hash and the canonical JSON of this entry';
    CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE audit_chain_head (
      lg_code char(6) PRIMARY KEY REFERENCES municipality,
      last_seq bigint NOT NULL CHECK (last_seq >= 0),
      last_hash text NOT NULL
    );
    COMMENT ON TABLE audit_chain_head IS 'Last entry of each municipality''s access-log chain; locked FOR UPDATE by every append so the chain never forks';

    CREATE TABLE audit_checkpoint (
      lg_code char(6) NOT NULL REFERENCES municipality,
      checkpoint_id bigint GENERATED ALWAYS AS IDENTITY,
      upto_seq bigint NOT NULL CHECK (upto_seq >= 1),
      chain_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      key_id text NOT NULL,
      signature text NOT NULL,
      PRIMARY KEY (lg_code, checkpoint_id)
    );
    CREATE INDEX audit_checkpoint_upto ON audit_checkpoint (lg_code, upto_seq);
    COMMENT ON TABLE audit_checkpoint IS 'Signed seals of the access-log chain (Ed25519, key kept outside the database); insert-only';
    COMMENT ON COLUMN audit_checkpoint.key_id IS 'sha256 fingerprint of the public key (SPKI DER) that verifies the signature';
    COMMENT ON COLUMN audit_checkpoint.signature IS 'base64 Ed25519 signature of the canonical JSON of (lg_code, upto_seq, chain_hash, created_at)';
    CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE audit_alert (
      lg_code char(6) NOT NULL REFERENCES municipality,
      alert_id bigint GENERATED ALWAYS AS IDENTITY,
      rule text NOT NULL,
      staff_id text,
      subject text NOT NULL,
      dedupe_key text NOT NULL,
      raised_at timestamptz NOT NULL,
      entry_seq bigint,
      details jsonb NOT NULL DEFAULT '{}',
      acknowledged_by text,
      acknowledged_at timestamptz,
      acknowledgement_note text,
      PRIMARY KEY (lg_code, alert_id),
      CHECK ((acknowledged_by IS NULL) = (acknowledged_at IS NULL))
    );
    CREATE UNIQUE INDEX audit_alert_dedupe ON audit_alert (lg_code, rule, dedupe_key);
    CREATE INDEX audit_alert_raised ON audit_alert (lg_code, raised_at);
    CREATE INDEX audit_alert_subject ON audit_alert (lg_code, rule, subject, raised_at);
    COMMENT ON TABLE audit_alert IS 'Alerts of the access monitoring rules (PIA: continuous monitoring); insert-only but for the acknowledgement';
    COMMENT ON COLUMN audit_alert.staff_id IS 'The staff member the alert is about (職員ID); null for failures naming nobody known';
    COMMENT ON COLUMN audit_alert.subject IS 'Who the rule counted: the staff id, or terminal:<id> for unknown names';
    COMMENT ON COLUMN audit_alert.dedupe_key IS 'One alert per rule and situation: a second alert with the same key is not raised';
    COMMENT ON COLUMN audit_alert.details IS 'Ids and counts only (entry seqs, numbers of searches); no names, numbers or addresses';
    COMMENT ON COLUMN audit_alert.acknowledgement_note IS 'Auditor''s note on the alert; must not hold names or numbers of residents';

    -- Alerts may change once, and only to be acknowledged; deletion follows jumin_append_only's rule.
    CREATE FUNCTION jumin_alert_acknowledge_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('jumin.allow_delete', true) = 'on' THEN
        RETURN OLD;
      END IF;
      IF TG_OP = 'UPDATE' AND OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL
         AND (NEW.lg_code, NEW.alert_id, NEW.rule, NEW.staff_id, NEW.subject, NEW.dedupe_key, NEW.raised_at,
              NEW.entry_seq, NEW.details)
             IS NOT DISTINCT FROM
             (OLD.lg_code, OLD.alert_id, OLD.rule, OLD.staff_id, OLD.subject, OLD.dedupe_key, OLD.raised_at,
              OLD.entry_seq, OLD.details) THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'table % may only be acknowledged', TG_TABLE_NAME USING ERRCODE = 'P0001';
    END $$;
    CREATE TRIGGER audit_alert_acknowledge_only BEFORE UPDATE OR DELETE ON audit_alert
      FOR EACH ROW EXECUTE FUNCTION jumin_alert_acknowledge_only();

    -- The application's role. Roles belong to the whole server, so several schemas (deployments, test
    -- schemas) may race to create it: tolerate its existing, and a migrating user who may not create roles.
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jumin_app') THEN
        CREATE ROLE jumin_app NOLOGIN;
      END IF;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'role jumin_app not created (no CREATEROLE): grant access-log privileges by hand';
    END $$;
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jumin_app') THEN
        REVOKE ALL ON access_log, audit_checkpoint, audit_chain_head, audit_alert FROM jumin_app;
        GRANT SELECT, INSERT ON access_log, audit_checkpoint TO jumin_app;
        GRANT SELECT, INSERT, UPDATE ON audit_chain_head TO jumin_app;
        GRANT SELECT, INSERT ON audit_alert TO jumin_app;
        GRANT UPDATE (acknowledged_by, acknowledged_at, acknowledgement_note) ON audit_alert TO jumin_app;
      END IF;
    EXCEPTION
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'privileges of jumin_app on the access log not granted: grant them by hand';
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The role stays: it belongs to the server and may serve other schemas; its grants go with the tables.
  await sql`
    DROP TABLE audit_alert;
    DROP FUNCTION jumin_alert_acknowledge_only();
    DROP TABLE audit_checkpoint;
    DROP TABLE audit_chain_head;
    DROP TABLE access_log;
  `.execute(db);
}
