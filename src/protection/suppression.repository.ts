/** Queries of suppressions and their releases. Rows stay in this module. */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';

export type Trx = Transaction<Database>;
/** A database or a transaction (a Transaction is a Kysely). */
export type Executor = Kysely<Database>;

export interface SuppressionRow {
  suppression_id: number;
  person_no: string | null;
  household_no: string | null;
  process: 'change' | 'certificate' | 'inquiry';
  level: 'error' | 'alert';
  starts_on: string;
  ends_on: string | null;
  reason: Uint8Array;
  set_by: string;
  set_at: Date;
}

export interface ReleaseRow {
  release_id: number;
  suppression_id: number;
  kind: 'release' | 'temporary';
  until: Date | null;
  reason: Uint8Array;
  released_by: string;
  released_at: Date;
}

const suppressionColumns = [
  'suppression.suppression_id',
  'suppression.person_no',
  'suppression.household_no',
  'suppression.process',
  'suppression.level',
  'suppression.starts_on',
  'suppression.ends_on',
  'suppression.reason',
  'suppression.set_by',
  'suppression.set_at',
] as const;

/** The next id of a table's identity, taken before inserting so encrypted values can be bound to it. */
export async function nextId(
  trx: Trx,
  table: 'suppression' | 'suppression_release' | 'support_measure_case_release',
  column: 'suppression_id' | 'release_id',
): Promise<number> {
  const { rows } = await sql<{ id: number }>`
    SELECT nextval(pg_get_serial_sequence(${table}, ${column})) AS id`.execute(trx);
  return Number(rows[0]!.id);
}

export async function insertSuppression(
  trx: Trx,
  row: Omit<SuppressionRow, 'reason'> & { lg_code: string; reason: Buffer },
): Promise<void> {
  await trx.insertInto('suppression').values(row).execute();
}

export async function insertRelease(
  trx: Trx,
  row: Omit<ReleaseRow, 'reason'> & { lg_code: string; reason: Buffer },
): Promise<void> {
  await trx.insertInto('suppression_release').values(row).execute();
}

/**
 * Locks one suppression (so a release and a temporary release cannot race) and returns it with whether it
 * was released; undefined when it does not exist in the municipality.
 */
export async function lockSuppression(
  trx: Trx,
  lgCode: string,
  suppressionId: number,
): Promise<(SuppressionRow & { released: boolean }) | undefined> {
  const row = await trx
    .selectFrom('suppression')
    .select(suppressionColumns)
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('suppression_release as r')
            .select('r.release_id')
            .whereRef('r.lg_code', '=', 'suppression.lg_code')
            .whereRef('r.suppression_id', '=', 'suppression.suppression_id')
            .where('r.kind', '=', 'release'),
        )
        .as('released'),
    )
    .where('suppression.lg_code', '=', lgCode)
    .where('suppression.suppression_id', '=', suppressionId)
    .forUpdate()
    .executeTakeFirst();
  return row && { ...row, released: Boolean(row.released) };
}

/**
 * Suppressions in force at `now` (on `today`) for any of the persons or households given: started, not
 * released, not under a temporary release lasting past `now`. The end date is deliberately not consulted.
 * A statement (for sending with others too), or undefined when there is nothing to look for.
 */
export function inForceQuery(
  db: Executor,
  lgCode: string,
  target: { personNos: readonly string[]; householdNos: readonly string[] },
  now: Date,
  today: string,
  process?: 'change' | 'certificate' | 'inquiry',
) {
  if (target.personNos.length === 0 && target.householdNos.length === 0) return undefined;
  let q = db
    .selectFrom('suppression')
    .select(suppressionColumns)
    .where('suppression.lg_code', '=', lgCode)
    .where((eb) => {
      const ors = [];
      if (target.personNos.length > 0) ors.push(eb('suppression.person_no', 'in', [...target.personNos]));
      if (target.householdNos.length > 0)
        ors.push(eb('suppression.household_no', 'in', [...target.householdNos]));
      return eb.or(ors);
    })
    .where('suppression.starts_on', '<=', today)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('suppression_release as r')
            .select('r.release_id')
            .whereRef('r.lg_code', '=', 'suppression.lg_code')
            .whereRef('r.suppression_id', '=', 'suppression.suppression_id')
            .where((w) => w.or([w('r.kind', '=', 'release'), w('r.until', '>', now)])),
        ),
      ),
    );
  if (process) q = q.where('suppression.process', '=', process);
  return q.orderBy('suppression.suppression_id');
}

/** Every suppression ever set on a person or household, oldest first. */
export async function listSuppressions(
  db: Executor,
  lgCode: string,
  target: { personNo?: string; householdNo?: string },
): Promise<SuppressionRow[]> {
  let q = db.selectFrom('suppression').select(suppressionColumns).where('suppression.lg_code', '=', lgCode);
  if (target.personNo !== undefined) q = q.where('suppression.person_no', '=', target.personNo);
  if (target.householdNo !== undefined) q = q.where('suppression.household_no', '=', target.householdNo);
  return q.orderBy('suppression.suppression_id').execute();
}

export async function listReleases(
  db: Executor,
  lgCode: string,
  suppressionIds: readonly number[],
): Promise<ReleaseRow[]> {
  if (suppressionIds.length === 0) return [];
  return db
    .selectFrom('suppression_release')
    .select(['release_id', 'suppression_id', 'kind', 'until', 'reason', 'released_by', 'released_at'])
    .where('lg_code', '=', lgCode)
    .where('suppression_id', 'in', [...suppressionIds])
    .orderBy('release_id')
    .execute();
}

/** Whether a person is on the register (current record) — a boolean only; the record stays in registry. */
export async function personExists(db: Executor, lgCode: string, personNo: string): Promise<boolean> {
  const row = await db
    .selectFrom('resident')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('person_no', '=', personNo)
    .executeTakeFirst();
  return row !== undefined;
}

export async function householdExists(db: Executor, lgCode: string, householdNo: string): Promise<boolean> {
  const row = await db
    .selectFrom('household')
    .select('household_no')
    .where('lg_code', '=', lgCode)
    .where('household_no', '=', householdNo)
    .executeTakeFirst();
  return row !== undefined;
}

/** Messages to linked systems, in the transaction of the act (the outbox of migration 0001). */
export async function insertOutbox(
  trx: Trx,
  lgCode: string,
  message: { topic: string; key: string; payload: Record<string, unknown> },
): Promise<void> {
  await trx
    .insertInto('outbox')
    .values({
      lg_code: lgCode,
      topic: message.topic,
      aggregate_key: message.key,
      payload: JSON.stringify(message.payload),
    })
    .execute();
}
