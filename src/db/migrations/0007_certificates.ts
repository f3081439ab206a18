/**
 * Certificates (証明書): the issuance history — every copy of a record handed out, insert-only — the
 * disposal of mis-issued ones (誤交付の廃棄), which is appended, never an update, and the per-day serial of
 * issue numbers. Frozen in time: never import app code.
 *
 * Privileges: like the access log, the application role `jumin_app` may only read and insert issuances and
 * disposals (and advance the serial counter), when the role exists and the migrating user may grant.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE certificate_counter (
      lg_code char(6) NOT NULL REFERENCES municipality,
      issued_on date NOT NULL,
      last_serial integer NOT NULL,
      PRIMARY KEY (lg_code, issued_on)
    );
    COMMENT ON TABLE certificate_counter IS 'Serial (連番) of certificate issue numbers per municipality and day';

    CREATE TABLE issuance (
      lg_code char(6) NOT NULL REFERENCES municipality,
      issuance_id bigint GENERATED ALWAYS AS IDENTITY,
      issued_at timestamptz NOT NULL,
      issued_on date NOT NULL,
      serial integer NOT NULL,
      issue_number text NOT NULL,
      place text NOT NULL,
      terminal_id text NOT NULL,
      printer_id text NOT NULL,
      staff_id text NOT NULL,
      certificate_type text NOT NULL
        CHECK (certificate_type IN ('residentCopy', 'removedRecordCopy', 'itemCertificate', 'moveOutCertificate')),
      requester_type text NOT NULL CHECK (requester_type IN ('self', 'government', 'thirdParty')),
      requester jsonb NOT NULL,
      household_no char(10) NOT NULL,
      subject_persons text[] NOT NULL,
      items text[] NOT NULL,
      with_history boolean NOT NULL,
      sheets integer NOT NULL CHECK (sheets > 0),
      fee integer NOT NULL CHECK (fee >= 0),
      official boolean NOT NULL,
      my_number_printed boolean NOT NULL,
      PRIMARY KEY (lg_code, issuance_id),
      UNIQUE (lg_code, issued_on, serial)
    );
    CREATE INDEX issuance_issued_at ON issuance (lg_code, issued_at);
    CREATE INDEX issuance_subject ON issuance USING gin (subject_persons);
    COMMENT ON TABLE issuance IS '証明書の交付記録: every issuance (Basic Resident Register Act art. 12, 12-2, 12-3); kept for the retention period the municipality sets';
    COMMENT ON COLUMN issuance.requester IS 'The requester as stated (personal data: the 宛名番号 of a person requesting their own or their household''s record, the name, reason and purpose of a third party, the body and legal basis of an official request): kept to account for the issuance under Act art. 12-3';
    COMMENT ON COLUMN issuance.subject_persons IS '宛名番号 of the persons certified (personal data): the record of whose data was issued';
    COMMENT ON COLUMN issuance.household_no IS '世帯番号 of the persons certified (personal data)';
    CREATE TRIGGER issuance_append_only BEFORE UPDATE OR DELETE ON issuance
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    CREATE TABLE issuance_disposal (
      lg_code char(6) NOT NULL REFERENCES municipality,
      disposal_id bigint GENERATED ALWAYS AS IDENTITY,
      issuance_id bigint NOT NULL,
      disposed_at timestamptz NOT NULL,
      staff_id text NOT NULL,
      terminal_id text NOT NULL,
      reason text NOT NULL,
      PRIMARY KEY (lg_code, disposal_id),
      UNIQUE (lg_code, issuance_id),
      FOREIGN KEY (lg_code, issuance_id) REFERENCES issuance (lg_code, issuance_id)
    );
    COMMENT ON TABLE issuance_disposal IS '誤交付の廃棄: a mis-issued certificate voided (appended; the issuance itself stays)';
    COMMENT ON COLUMN issuance_disposal.reason IS 'Why the certificate was voided, as the clerk states it (may mention the requester): kept to account for the issuance';
    CREATE TRIGGER issuance_disposal_append_only BEFORE UPDATE OR DELETE ON issuance_disposal
      FOR EACH ROW EXECUTE FUNCTION jumin_append_only();

    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jumin_app') THEN
        REVOKE ALL ON issuance, issuance_disposal, certificate_counter FROM jumin_app;
        GRANT SELECT, INSERT ON issuance, issuance_disposal TO jumin_app;
        GRANT SELECT, INSERT, UPDATE ON certificate_counter TO jumin_app;
      END IF;
    EXCEPTION
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'privileges of jumin_app on the issuance history not granted: grant them by hand';
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE issuance_disposal;
    DROP TABLE issuance;
    DROP TABLE certificate_counter;
  `.execute(db);
}
