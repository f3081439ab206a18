/**
 * Support measures (支援措置) for victims of DV, stalking and abuse: the subjects and their terms. This is
 * the part monitoring needs (who is protected, when); issue 4 adds the application, the protected persons'
 * details (encrypted) and the blocked services.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE support_measure (
      lg_code char(6) NOT NULL REFERENCES municipality,
      measure_id bigint GENERATED ALWAYS AS IDENTITY,
      person_no char(10) NOT NULL,
      status text NOT NULL CHECK (status IN ('provisional', 'active', 'ended')),
      starts_on date NOT NULL,
      ends_on date NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL,
      PRIMARY KEY (lg_code, measure_id)
    );
    CREATE INDEX support_measure_person ON support_measure (lg_code, person_no);
    COMMENT ON TABLE support_measure IS '支援措置: persons protected under Basic Resident Register Act art. 12 para. 6 etc.';
    COMMENT ON COLUMN support_measure.person_no IS '宛名番号 of the protected person (support measures administration)';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE support_measure`.execute(db);
}
