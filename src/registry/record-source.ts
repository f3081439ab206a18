/**
 * The register's records as certificates need them: unmasked, for one household or chosen persons, with
 * their history when asked. For other modules (certificates), which check who may obtain what and write
 * the issuance and its access-log entry themselves, in the same transaction.
 */
import { NotFoundError } from '../shared/index.js';
import { REASONS, type Reason } from './change.js';
import * as repo from './resident.repository.js';
import type { MunicipalityKeys } from '../keys/index.js';
import { recordOf } from './my-number.js';
import type { ResidentRecord } from './resident.js';

export interface SubjectHistoryEntry {
  historySeq: number;
  changeId: number;
  reason: string;
  reasonLabel: string;
  effectiveDate: string;
  notifiedOn: string | undefined;
  /** Cancelled changes are shown struck through on a certificate, or left out. */
  cancelled: boolean;
  record: ResidentRecord;
}

export interface CertificateSubject {
  record: ResidentRecord;
  /** Oldest first; empty unless asked for. */
  history: SubjectHistoryEntry[];
}

export interface CertificateSource {
  householdNo: string;
  /** The household's head (current, or the head at the time for a removed household), if any. */
  head: ResidentRecord | undefined;
  subjects: CertificateSubject[];
}

/**
 * Loads the persons a certificate is about, with their 個人番号 decrypted with the municipality's `keys`
 * (the certificate prints it only when asked for and allowed). With `personNos`, exactly those persons (current or removed)
 * in household order — they must share one household; without, every current member of `householdNo`.
 */
export async function loadCertificateSource(
  db: repo.Trx | Parameters<typeof repo.findResident>[0],
  lgCode: string,
  q: { householdNo?: string | undefined; personNos?: readonly string[] | undefined; withHistory: boolean },
  keys: MunicipalityKeys,
): Promise<CertificateSource> {
  let records: ResidentRecord[];
  if (q.personNos && q.personNos.length > 0) {
    records = [];
    for (const personNo of q.personNos) {
      const row = await repo.findResident(db, lgCode, personNo, { includeArchive: true });
      if (!row) {
        throw new NotFoundError(
          'PERSON_NOT_FOUND',
          '指定された宛名番号の方が見つかりません。宛名番号を確認してください。',
        );
      }
      records.push(recordOf(keys, row));
    }
    records.sort((a, b) => a.householdOrder - b.householdOrder);
  } else if (q.householdNo) {
    const rows = await repo.findHouseholdMembers(db, lgCode, q.householdNo);
    if (rows.length === 0) {
      throw new NotFoundError(
        'HOUSEHOLD_NOT_FOUND',
        '指定された世帯に現在の世帯員がいません。世帯番号を確認してください。',
      );
    }
    records = rows.map((r) => recordOf(keys, r));
  } else {
    throw new NotFoundError(
      'PERSON_NOT_FOUND',
      '証明の対象の方（世帯番号または宛名番号）を指定してください。',
    );
  }
  const householdNo = records[0]!.householdNo;
  if (records.some((r) => r.householdNo !== householdNo)) {
    throw new NotFoundError(
      'MIXED_HOUSEHOLDS',
      '一通の証明書には同じ世帯の方だけを記載できます。世帯ごとに請求してください。',
    );
  }
  const members = (await repo.findHouseholdAllMembers(db, lgCode, householdNo)).map((r) => recordOf(keys, r));
  const head =
    members.find((m) => m.relationship === '世帯主' && m.status === 'current') ??
    members.find((m) => m.relationship === '世帯主');
  const subjects: CertificateSubject[] = [];
  for (const record of records) {
    const history = q.withHistory
      ? (await repo.listHistory(db, lgCode, record.personNo)).map((h) => ({
          historySeq: h.history_seq,
          changeId: h.change_id,
          reason: h.reason,
          reasonLabel: REASONS[h.reason as Reason]?.label ?? h.reason,
          effectiveDate: h.effective_date,
          notifiedOn: h.notified_on ?? undefined,
          cancelled: h.cancelled_by !== null || h.cancels_change_id !== null,
          record: recordOf(keys, h),
        }))
      : [];
    subjects.push({ record, history });
  }
  return { householdNo, head, subjects };
}
