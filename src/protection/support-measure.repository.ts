/** Queries of support measures. Rows stay in this module. */
import type { Db } from '../db/index.js';

/** Persons (of those given) under a provisional or active support measure on `today`. */
export async function findProtectedPersons(
  db: Db,
  lgCode: string,
  personNos: readonly string[],
  today: string,
): Promise<Set<string>> {
  if (personNos.length === 0) return new Set();
  const rows = await db
    .selectFrom('support_measure')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', personNos)
    .where('status', 'in', ['provisional', 'active'])
    .where('starts_on', '<=', today)
    .where('ends_on', '>=', today)
    .execute();
  return new Set(rows.map((r) => r.person_no));
}

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
