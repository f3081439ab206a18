/** Queries of support measures. Rows stay in this module. */
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { Executor, Trx } from './suppression.repository.js';

type Status = 'provisional' | 'active' | 'rejected' | 'ended' | 'transferred';

export interface MeasureRow {
  measure_id: number;
  person_no: string;
  status: Status;
  starts_on: string;
  ends_on: string;
  applied_on: string | null;
  decided_on: string | null;
  closed_on: string | null;
  transferred_to: string | null;
  blocked_services: string[];
}

const measureColumns = [
  'support_measure.measure_id',
  'support_measure.person_no',
  'support_measure.status',
  'support_measure.starts_on',
  'support_measure.ends_on',
  'support_measure.applied_on',
  'support_measure.decided_on',
  'support_measure.closed_on',
  'support_measure.transferred_to',
  'support_measure.blocked_services',
] as const;

/**
 * Persons (of those given) under a provisional or active support measure on `today`: the applicant and the
 * persons protected with them.
 */
export async function findProtectedPersons(
  db: Db,
  lgCode: string,
  personNos: readonly string[],
  today: string,
): Promise<Set<string>> {
  if (personNos.length === 0) return new Set();
  const rows = await db
    .selectFrom('support_measure as m')
    .leftJoin('support_measure_protected as p', (j) =>
      j.onRef('p.lg_code', '=', 'm.lg_code').onRef('p.measure_id', '=', 'm.measure_id'),
    )
    .select(['m.person_no as applicant', 'p.person_no as other'])
    .where('m.lg_code', '=', lgCode)
    .where((eb) => eb.or([eb('m.person_no', 'in', [...personNos]), eb('p.person_no', 'in', [...personNos])]))
    .where('m.status', 'in', ['provisional', 'active'])
    .where('m.starts_on', '<=', today)
    .where('m.ends_on', '>=', today)
    .execute();
  const wanted = new Set(personNos);
  const found = new Set<string>();
  for (const r of rows) {
    if (wanted.has(r.applicant)) found.add(r.applicant);
    if (r.other !== null && wanted.has(r.other)) found.add(r.other);
  }
  return found;
}

/** A bare measure for one person (tests and data migration); blocks every service by default. */
export async function insertSupportMeasure(
  db: Db,
  m: {
    lgCode: string;
    personNo: string;
    status: 'provisional' | 'active';
    startsOn: string;
    endsOn: string;
    createdBy: string;
  },
): Promise<number> {
  const row = await db
    .insertInto('support_measure')
    .values({
      lg_code: m.lgCode,
      person_no: m.personNo,
      status: m.status,
      starts_on: m.startsOn,
      ends_on: m.endsOn,
      created_by: m.createdBy,
    })
    .returning('measure_id')
    .executeTakeFirstOrThrow();
  return row.measure_id;
}

export async function insertMeasure(
  trx: Trx,
  m: {
    lgCode: string;
    personNo: string;
    startsOn: string;
    endsOn: string;
    appliedOn: string;
    blockedServices: readonly string[];
    createdBy: string;
    createdAt: Date;
  },
): Promise<number> {
  const row = await trx
    .insertInto('support_measure')
    .values({
      lg_code: m.lgCode,
      person_no: m.personNo,
      status: 'provisional',
      starts_on: m.startsOn,
      ends_on: m.endsOn,
      applied_on: m.appliedOn,
      blocked_services: [...m.blockedServices],
      created_by: m.createdBy,
      created_at: m.createdAt,
    })
    .returning('measure_id')
    .executeTakeFirstOrThrow();
  return row.measure_id;
}

export async function insertProtectedPersons(
  trx: Trx,
  lgCode: string,
  measureId: number,
  personNos: readonly string[],
): Promise<void> {
  if (personNos.length === 0) return;
  await trx
    .insertInto('support_measure_protected')
    .values(personNos.map((p) => ({ lg_code: lgCode, measure_id: measureId, person_no: p })))
    .execute();
}

export async function insertDetail(
  trx: Trx,
  row: { lg_code: string; measure_id: number; perpetrator: Buffer; case_details: Buffer },
): Promise<void> {
  await trx.insertInto('support_measure_detail').values(row).execute();
}

export async function findDetail(
  db: Executor,
  lgCode: string,
  measureId: number,
): Promise<{ perpetrator: Uint8Array; case_details: Uint8Array } | undefined> {
  return db
    .selectFrom('support_measure_detail')
    .select(['perpetrator', 'case_details'])
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .executeTakeFirst();
}

/** Locks a measure for the rest of the transaction (status changes are serialised). */
export async function lockMeasure(
  trx: Trx,
  lgCode: string,
  measureId: number,
): Promise<MeasureRow | undefined> {
  return trx
    .selectFrom('support_measure')
    .select(measureColumns)
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findMeasure(
  db: Executor,
  lgCode: string,
  measureId: number,
): Promise<MeasureRow | undefined> {
  return db
    .selectFrom('support_measure')
    .select(measureColumns)
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .executeTakeFirst();
}

export async function updateMeasure(
  trx: Trx,
  lgCode: string,
  measureId: number,
  set: Partial<
    Pick<MeasureRow, 'status' | 'starts_on' | 'ends_on' | 'decided_on' | 'closed_on' | 'transferred_to'>
  >,
): Promise<void> {
  await trx
    .updateTable('support_measure')
    .set(set)
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .execute();
}

export async function listProtectedPersons(db: Executor, lgCode: string, measureIds: readonly number[]) {
  if (measureIds.length === 0) return [];
  return db
    .selectFrom('support_measure_protected')
    .select(['measure_id', 'person_no'])
    .where('lg_code', '=', lgCode)
    .where('measure_id', 'in', [...measureIds])
    .orderBy('person_no')
    .execute();
}

export interface EventRow {
  kind: 'applied' | 'decided' | 'rejected' | 'extended' | 'terminated' | 'transferred' | 'caseReleased';
  on_date: string;
  starts_on: string | null;
  ends_on: string | null;
  transferred_to: string | null;
  staff_id: string;
  terminal_id: string;
  recorded_at: Date;
}

export async function insertEvent(trx: Trx, lgCode: string, measureId: number, e: EventRow): Promise<void> {
  await trx
    .insertInto('support_measure_event')
    .values({ lg_code: lgCode, measure_id: measureId, ...e })
    .execute();
}

export async function listEvents(db: Executor, lgCode: string, measureId: number): Promise<EventRow[]> {
  return db
    .selectFrom('support_measure_event')
    .select([
      'kind',
      'on_date',
      'starts_on',
      'ends_on',
      'transferred_to',
      'staff_id',
      'terminal_id',
      'recorded_at',
    ])
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .orderBy('event_id')
    .execute();
}

/** The measure (provisional or active on `today`, covering the person, blocking the service) if any. */
export async function findBlockingMeasure(
  db: Executor,
  lgCode: string,
  personNo: string,
  service: string,
  today: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('support_measure as m')
    .select('m.measure_id')
    .where('m.lg_code', '=', lgCode)
    .where((eb) =>
      eb.or([
        eb('m.person_no', '=', personNo),
        eb.exists(
          eb
            .selectFrom('support_measure_protected as p')
            .select('p.person_no')
            .whereRef('p.lg_code', '=', 'm.lg_code')
            .whereRef('p.measure_id', '=', 'm.measure_id')
            .where('p.person_no', '=', personNo),
        ),
      ]),
    )
    .where('m.status', 'in', ['provisional', 'active'])
    .where('m.starts_on', '<=', today)
    .where('m.ends_on', '>=', today)
    .where(sql<boolean>`${service} = ANY(m.blocked_services)`)
    .orderBy('m.measure_id')
    .executeTakeFirst();
  return row?.measure_id;
}

export async function insertCaseRelease(
  trx: Trx,
  row: {
    lg_code: string;
    release_id: number;
    measure_id: number;
    reason: Buffer;
    released_by: string;
    released_at: Date;
  },
): Promise<void> {
  await trx.insertInto('support_measure_case_release').values(row).execute();
}

/** Marks the oldest unused case release of a measure used; false when there is none. */
export async function useCaseRelease(
  trx: Trx,
  lgCode: string,
  measureId: number,
  issuanceRef: string,
  now: Date,
): Promise<boolean> {
  const unused = await trx
    .selectFrom('support_measure_case_release')
    .select('release_id')
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .where('used_at', 'is', null)
    .orderBy('release_id')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  if (!unused) return false;
  await trx
    .updateTable('support_measure_case_release')
    .set({ used_at: now, issuance_ref: issuanceRef })
    .where('lg_code', '=', lgCode)
    .where('release_id', '=', unused.release_id)
    .execute();
  return true;
}

export async function listCaseReleases(db: Executor, lgCode: string, measureId: number) {
  return db
    .selectFrom('support_measure_case_release')
    .select(['release_id', 'reason', 'released_by', 'released_at', 'used_at', 'issuance_ref'])
    .where('lg_code', '=', lgCode)
    .where('measure_id', '=', measureId)
    .orderBy('release_id')
    .execute();
}

/** Provisional or active measures ending on or before `until` (including those already past their end). */
export async function listEndingBy(db: Executor, lgCode: string, until: string): Promise<MeasureRow[]> {
  return db
    .selectFrom('support_measure')
    .select(measureColumns)
    .where('lg_code', '=', lgCode)
    .where('status', 'in', ['provisional', 'active'])
    .where('ends_on', '<=', until)
    .orderBy('ends_on')
    .orderBy('measure_id')
    .execute();
}
