/**
 * The register's records for the full-set export to other business systems (linkage): one page of
 * persons in 宛名番号 order, read by keyset (`person_no > after`), so the caller can walk the whole register
 * inside one snapshot without ever holding more than a page. The caller (linkage) checks permissions,
 * reads suppression flags for the page and writes the access-log entry.
 */
import { sql } from 'kysely';
import type { MunicipalityKeys } from '../keys/index.js';
import { recordOf } from './my-number.js';
import type { Trx } from './resident.repository.js';
import { ResidentRecord } from './resident.js';

export interface RegisterPageOptions {
  lgCode: string;
  /** The last 宛名番号 of the previous page; undefined for the first page. */
  after?: string | undefined;
  limit: number;
  /** With 除票: every person of the current-record index, live and archived (`resident_all`). */
  includeRemoved: boolean;
  /**
   * The municipality's keys, to put the 個人番号 back from the current snapshot's ciphertext. Without
   * them the records carry no 個人番号 (the jsonb never holds it).
   */
  keys?: MunicipalityKeys | undefined;
}

interface PageRow {
  person_no: string;
  history_seq: number;
  record: Record<string, unknown>;
  my_number_enc: Uint8Array | null;
}

/**
 * One page of records, ordered by 宛名番号: current residents (status current, pending move-outs
 * included), or everyone with `includeRemoved`. Runs on the primary key index (lg_code, person_no).
 */
export async function readRegisterPage(trx: Trx, o: RegisterPageOptions): Promise<ResidentRecord[]> {
  const residents = o.includeRemoved ? sql.table('resident_all') : sql.table('resident');
  const history = o.includeRemoved ? sql.table('resident_history_all') : sql.table('resident_history');
  const current = o.includeRemoved ? sql`` : sql`AND r.status = 'current'`;
  const myNumber = o.keys
    ? sql`(SELECT h.my_number_enc FROM ${history} h
           WHERE h.lg_code = r.lg_code AND h.person_no = r.person_no AND h.history_seq = r.history_seq)`
    : sql`NULL::bytea`;
  const { rows } = await sql<PageRow>`
    SELECT r.person_no, r.history_seq, r.record, ${myNumber} AS my_number_enc
    FROM ${residents} r
    WHERE r.lg_code = ${o.lgCode} AND r.person_no > ${o.after ?? ''} ${current}
    ORDER BY r.person_no
    LIMIT ${o.limit}`.execute(trx);
  const keys = o.keys;
  return rows.map((row) => (keys ? recordOf(keys, row) : storedRecordOf(row.record)));
}

/** A stored record without its 個人番号 (never in the jsonb; dropped here all the same). */
function storedRecordOf(record: Record<string, unknown>): ResidentRecord {
  const { myNumber: _ignored, ...rest } = record;
  return ResidentRecord.parse(rest);
}
