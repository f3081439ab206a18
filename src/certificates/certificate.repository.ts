/** Queries of the issuance history. Rows stay in this module; the service maps them to views. */
import { sql, type Transaction } from 'kysely';
import { textArray, type Database, type Db } from '../db/index.js';

export type Trx = Transaction<Database>;
type Executor = Db | Trx;

export interface IssuanceRow {
  lg_code: string;
  issuance_id: number;
  issued_at: Date;
  issued_on: string;
  serial: number;
  issue_number: string;
  place: string;
  terminal_id: string;
  printer_id: string;
  staff_id: string;
  certificate_type: string;
  requester_type: string;
  requester: Record<string, unknown>;
  household_no: string;
  subject_persons: string[];
  items: string[];
  with_history: boolean;
  sheets: number;
  fee: number;
  official: boolean;
  my_number_printed: boolean;
  disposal_id: number | null;
  disposed_at: Date | null;
  disposed_by: string | null;
  disposal_terminal_id: string | null;
  disposal_reason: string | null;
}

export type NewIssuanceRow = Omit<
  IssuanceRow,
  'issuance_id' | 'disposal_id' | 'disposed_at' | 'disposed_by' | 'disposal_terminal_id' | 'disposal_reason'
>;

/** The next serial of the day's issue numbers; the row lock serialises concurrent issuances. */
export async function nextSerial(trx: Trx, lgCode: string, issuedOn: string): Promise<number> {
  const row = await trx
    .insertInto('certificate_counter')
    .values({ lg_code: lgCode, issued_on: issuedOn, last_serial: 1 })
    .onConflict((oc) =>
      oc
        .columns(['lg_code', 'issued_on'])
        .doUpdateSet({ last_serial: sql<number>`certificate_counter.last_serial + 1` }),
    )
    .returning('last_serial')
    .executeTakeFirstOrThrow();
  return row.last_serial;
}

export async function insertIssuance(trx: Trx, row: NewIssuanceRow): Promise<number> {
  const inserted = await trx
    .insertInto('issuance')
    .values({
      ...row,
      requester: JSON.stringify(row.requester),
      subject_persons: textArray(row.subject_persons),
      items: textArray(row.items),
    })
    .returning('issuance_id')
    .executeTakeFirstOrThrow();
  return inserted.issuance_id;
}

/** Live issuances; with `includeArchive`, those moved to the removed-records archive too (migration 0010). */
function selectIssuances(db: Executor, lgCode: string, includeArchive = false) {
  return db
    .selectFrom(includeArchive ? 'issuance_all as i' : 'issuance as i')
    .leftJoin(includeArchive ? 'issuance_disposal_all as d' : 'issuance_disposal as d', (j) =>
      j.onRef('d.lg_code', '=', 'i.lg_code').onRef('d.issuance_id', '=', 'i.issuance_id'),
    )
    .where('i.lg_code', '=', lgCode)
    .selectAll('i')
    .select([
      'd.disposal_id',
      'd.disposed_at',
      'd.staff_id as disposed_by',
      'd.terminal_id as disposal_terminal_id',
      'd.reason as disposal_reason',
    ]);
}

export async function findIssuance(
  db: Executor,
  lgCode: string,
  issuanceId: number,
): Promise<IssuanceRow | undefined> {
  return selectIssuances(db, lgCode).where('i.issuance_id', '=', issuanceId).executeTakeFirst();
}

export interface IssuanceFilter {
  from?: string | undefined;
  to?: string | undefined;
  personNo?: string | undefined;
  staffId?: string | undefined;
  type?: string | undefined;
}

/** Issuances of a municipality, newest first; `from`/`to` are issue days, both inclusive. */
export async function searchIssuances(
  db: Executor,
  lgCode: string,
  filter: IssuanceFilter,
  page: { offset: number; limit: number },
): Promise<{ rows: IssuanceRow[]; total: number }> {
  let q = selectIssuances(db, lgCode, true);
  if (filter.from !== undefined) q = q.where('i.issued_on', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('i.issued_on', '<=', filter.to);
  if (filter.staffId !== undefined) q = q.where('i.staff_id', '=', filter.staffId);
  if (filter.type !== undefined) q = q.where('i.certificate_type', '=', filter.type);
  if (filter.personNo !== undefined) {
    q = q.where(sql<boolean>`i.subject_persons @> ARRAY[${filter.personNo}]::text[]`);
  }
  const rows = await q.orderBy('i.issuance_id', 'desc').offset(page.offset).limit(page.limit).execute();
  let c = db.selectFrom('issuance_all as i').where('i.lg_code', '=', lgCode);
  if (filter.from !== undefined) c = c.where('i.issued_on', '>=', filter.from);
  if (filter.to !== undefined) c = c.where('i.issued_on', '<=', filter.to);
  if (filter.staffId !== undefined) c = c.where('i.staff_id', '=', filter.staffId);
  if (filter.type !== undefined) c = c.where('i.certificate_type', '=', filter.type);
  if (filter.personNo !== undefined) {
    c = c.where(sql<boolean>`i.subject_persons @> ARRAY[${filter.personNo}]::text[]`);
  }
  const count = await c.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { rows, total: Number(count.n) };
}

export async function insertDisposal(
  trx: Trx,
  d: {
    lgCode: string;
    issuanceId: number;
    disposedAt: Date;
    staffId: string;
    terminalId: string;
    reason: string;
  },
): Promise<number> {
  const row = await trx
    .insertInto('issuance_disposal')
    .values({
      lg_code: d.lgCode,
      issuance_id: d.issuanceId,
      disposed_at: d.disposedAt,
      staff_id: d.staffId,
      terminal_id: d.terminalId,
      reason: d.reason,
    })
    .returning('disposal_id')
    .executeTakeFirstOrThrow();
  return row.disposal_id;
}
