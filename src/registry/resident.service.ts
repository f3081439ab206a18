/**
 * Reading the register: inquiry of one person (current record and whole history), the household view,
 * search of candidates, and the data a move-out certificate needs. Rows are mapped to domain types here.
 */
import { z } from 'zod';
import type { Db } from '../db/index.js';
import {
  NotFoundError,
  normalizeForSearch,
  parseFlexDate,
  type HouseholdNo,
  type PersonNo,
} from '../shared/index.js';
import { REASONS, type Reason } from './change.js';
import { parseInput } from './parse.js';
import * as repo from './resident.repository.js';
import {
  HouseholdNoInput,
  MyNumberInput,
  PersonNoInput,
  ResidenceCardNo,
  ResidentCodeInput,
  ResidentRecord,
  STATUS_LABEL,
  Sex,
  displayName,
  displayReading,
  formatAddress,
  isRemoved,
} from './resident.js';

export interface HistoryEntry {
  historySeq: number;
  changeId: number;
  changeType: string;
  kind: string;
  reason: string;
  reasonLabel: string;
  effectiveDate: string;
  processedOn: string;
  notifiedOn: string | undefined;
  staffId: string;
  terminalId: string;
  notes: string | undefined;
  /** The change this one cancelled, if it is a cancellation. */
  cancelsChangeId: number | undefined;
  /** The cancellation that cancelled this change, if any. */
  cancelledByChangeId: number | undefined;
  record: ResidentRecord;
}

export interface Inquiry {
  personNo: PersonNo;
  removed: boolean;
  statusLabel: string;
  current: ResidentRecord;
  history: HistoryEntry[];
}

export interface HouseholdMember {
  personNo: PersonNo;
  name: string;
  reading: string;
  relationship: string;
  order: number;
  status: string;
  removed: boolean;
}

export interface HouseholdView {
  householdNo: HouseholdNo;
  head: HouseholdMember | undefined;
  address: string | undefined;
  members: HouseholdMember[];
  formerMembers: HouseholdMember[];
}

export const SearchCriteria = z.object({
  /** Name in any script: kanji, kana, Latin letters, alias, former surname; partial match. */
  name: z.string().trim().max(100).optional(),
  /** Date of birth in either calendar (`S50.4.1`, `昭和50年4月1日`, `1975-04-01`) or a year (`昭和50年頃`). */
  birthDate: z.string().trim().max(40).optional(),
  sex: Sex.optional(),
  /** Address or 方書, partial match, past addresses included. */
  address: z.string().trim().max(200).optional(),
  addressCode: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  personNo: PersonNoInput.optional(),
  householdNo: HouseholdNoInput.optional(),
  myNumber: MyNumberInput.optional(),
  residentCode: ResidentCodeInput.optional(),
  residenceCardNo: ResidenceCardNo.optional(),
  status: z.enum(['current', 'removed', 'all']).default('all'),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});
export type SearchCriteria = z.input<typeof SearchCriteria>;

export interface SearchHit {
  personNo: PersonNo;
  householdNo: HouseholdNo;
  name: string;
  reading: string;
  birthDate: ResidentRecord['birthDate'];
  sex: ResidentRecord['sex'];
  address: string;
  relationship: string;
  kind: ResidentRecord['kind'];
  status: ResidentRecord['status'];
  statusLabel: string;
  /** A removed record (除票): marked in results. */
  removed: boolean;
  plannedMoveOut: string | undefined;
}

export interface SearchResult {
  total: number;
  page: number;
  pageSize: number;
  hits: SearchHit[];
}

export interface MoveOutCertificateData {
  personNo: PersonNo;
  name: string;
  reading: string;
  birthDate: ResidentRecord['birthDate'];
  sex: ResidentRecord['sex'];
  householdHead: string | undefined;
  relationship: string;
  address: string;
  destination: { text: string; abroad: boolean };
  plannedDate: string;
  notifiedOn: string;
  honseki: ResidentRecord['honseki'];
  residentCode: string | undefined;
  myNumber: string | undefined;
  foreign: ResidentRecord['foreign'];
}

function personNotFound(): NotFoundError {
  return new NotFoundError(
    'PERSON_NOT_FOUND',
    '指定された宛名番号の方が見つかりません。宛名番号を確認してください。',
  );
}

function memberOf(row: repo.ResidentRow): HouseholdMember {
  const r = ResidentRecord.parse(row.record);
  return {
    personNo: r.personNo,
    name: displayName(r),
    reading: displayReading(r),
    relationship: r.relationship,
    order: r.householdOrder,
    status: r.status,
    removed: isRemoved(r.status),
  };
}

function hitOf(row: repo.ResidentRow): SearchHit {
  const r = ResidentRecord.parse(row.record);
  return {
    personNo: r.personNo,
    householdNo: r.householdNo,
    name: displayName(r),
    reading: displayReading(r),
    birthDate: r.birthDate,
    sex: r.sex,
    address: formatAddress(r.address),
    relationship: r.relationship,
    kind: r.kind,
    status: r.status,
    statusLabel: STATUS_LABEL[r.status],
    removed: isRemoved(r.status),
    plannedMoveOut: r.status === 'current' ? r.plannedMoveOut?.plannedDate : undefined,
  };
}

/** A birth-date criterion as a day range: an exact day, or the span an uncertain text denotes. */
function birthRange(text: string): { from: string; to: string } {
  const d = parseFlexDate(text);
  switch (d.kind) {
    case 'exact':
      return { from: d.date, to: d.date };
    case 'range':
      return { from: d.from, to: d.to };
    case 'approximate': {
      const key = d.sortKey;
      const year = key.slice(0, 4);
      if (d.precision === 'year') return { from: `${year}-01-01`, to: `${year}-12-31` };
      const month = key.slice(0, 7);
      return { from: `${month}-01`, to: `${month}-31` };
    }
    case 'asWritten':
      return { from: d.sortKey, to: d.sortKey };
    case 'unknown':
      return { from: '0001-01-01', to: '9999-12-31' };
  }
}

export class ResidentService {
  constructor(private readonly db: Db) {}

  /** 照会: the current record and the whole history, oldest first. */
  async inquire(lgCode: string, personNoRaw: string): Promise<Inquiry> {
    const personNo = parseInput(PersonNoInput, personNoRaw);
    const current = await repo.findResident(this.db, lgCode, personNo);
    if (!current) throw personNotFound();
    const rows = await repo.listHistory(this.db, lgCode, personNo);
    const record = ResidentRecord.parse(current.record);
    return {
      personNo,
      removed: isRemoved(record.status),
      statusLabel: STATUS_LABEL[record.status],
      current: record,
      history: rows.map((h) => ({
        historySeq: h.history_seq,
        changeId: h.change_id,
        changeType: h.change_type,
        kind: h.change_kind,
        reason: h.reason,
        reasonLabel: REASONS[h.reason as Reason]?.label ?? h.reason,
        effectiveDate: h.effective_date,
        processedOn: h.processed_on,
        notifiedOn: h.notified_on ?? undefined,
        staffId: h.staff_id,
        terminalId: h.terminal_id,
        notes: h.notes ?? undefined,
        cancelsChangeId: h.cancels_change_id ?? undefined,
        cancelledByChangeId: h.cancelled_by ?? undefined,
        record: ResidentRecord.parse(h.record),
      })),
    };
  }

  /** The household: its head, current members in order, and members who left or were removed. */
  async household(lgCode: string, householdNoRaw: string): Promise<HouseholdView> {
    const householdNo = parseInput(HouseholdNoInput, householdNoRaw);
    if (!(await repo.householdExists(this.db, lgCode, householdNo))) {
      throw new NotFoundError(
        'HOUSEHOLD_NOT_FOUND',
        '指定された世帯番号の世帯が見つかりません。世帯番号を確認してください。',
      );
    }
    const rows = await repo.findHouseholdAllMembers(this.db, lgCode, householdNo);
    const members = rows.filter((r) => r.status === 'current').map(memberOf);
    const formerMembers = rows.filter((r) => r.status !== 'current').map(memberOf);
    const first = rows.find((r) => r.status === 'current');
    return {
      householdNo,
      head: members.find((m) => m.relationship === '世帯主'),
      address: first ? formatAddress(ResidentRecord.parse(first.record).address) : undefined,
      members,
      formerMembers,
    };
  }

  /** 検索: candidates matching every given criterion, removed records included and marked. */
  async search(lgCode: string, raw: SearchCriteria): Promise<SearchResult> {
    const c = parseInput(SearchCriteria, raw);
    const birth = c.birthDate ? birthRange(c.birthDate) : undefined;
    const nameNorm = c.name ? normalizeForSearch(c.name) : undefined;
    const addressNorm = c.address ? normalizeForSearch(c.address) : undefined;
    const { total, rows } = await repo.searchResidents(this.db, lgCode, {
      nameNorm: nameNorm || undefined,
      addressNorm: addressNorm || undefined,
      addressCode: c.addressCode,
      birthFrom: birth?.from,
      birthTo: birth?.to,
      sex: c.sex,
      personNo: c.personNo,
      householdNo: c.householdNo,
      myNumber: c.myNumber,
      residentCode: c.residentCode,
      residenceCardNo: c.residenceCardNo,
      status: c.status,
      limit: c.pageSize,
      offset: (c.page - 1) * c.pageSize,
    });
    return { total, page: c.page, pageSize: c.pageSize, hits: rows.map(hitOf) };
  }

  /** What a 転出証明書 states, for a person with a move-out recorded (pending or effective). */
  async moveOutCertificate(lgCode: string, personNoRaw: string): Promise<MoveOutCertificateData> {
    const personNo = parseInput(PersonNoInput, personNoRaw);
    const row = await repo.findResident(this.db, lgCode, personNo);
    if (!row) throw personNotFound();
    const r = ResidentRecord.parse(row.record);
    const planned = r.plannedMoveOut;
    const removal = r.status === 'movedOut' ? r.removal : undefined;
    const destination = planned?.destination ?? removal?.destination;
    const plannedDate = planned?.plannedDate ?? removal?.effectiveDate;
    if (!destination || !plannedDate) {
      throw new NotFoundError(
        'NO_MOVE_OUT',
        'この方には転出の届出がありません。転出証明書は作成できません。',
      );
    }
    const head = (await repo.findHouseholdAllMembers(this.db, lgCode, r.householdNo))
      .map((m) => ResidentRecord.parse(m.record))
      .find((m) => m.relationship === '世帯主' && (m.status === 'current' || m.personNo === r.personNo));
    return {
      personNo: r.personNo,
      name: displayName(r),
      reading: displayReading(r),
      birthDate: r.birthDate,
      sex: r.sex,
      householdHead: head ? displayName(head) : undefined,
      relationship: r.relationship,
      address: formatAddress(r.address),
      destination,
      plannedDate,
      notifiedOn: planned?.notifiedOn ?? r.notifiedOn,
      honseki: r.honseki,
      residentCode: r.residentCode,
      myNumber: r.myNumber,
      foreign: r.foreign,
    };
  }
}
