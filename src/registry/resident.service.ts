/**
 * Reading the register: inquiry of one person (current record and whole history), the household view,
 * search of candidates, and the data a move-out certificate needs. Rows are mapped to domain types here.
 */
import { z } from 'zod';
import { protectCriteria } from '../audit/index.js';
import { checkSuppression, suppressionsByPerson, type SuppressionHit } from '../protection/index.js';
import type { Db } from '../db/index.js';
import {
  DomainError,
  NotFoundError,
  requirePermission,
  type Actor,
  normalizeForSearch,
  parseFlexDate,
  type HouseholdNo,
  type PersonNo,
} from '../shared/index.js';
import { REASONS, type Reason } from './change.js';
import {
  MASKABLE_ITEM_NAMES,
  checkReveal,
  factsAbout,
  targetsOf,
  logAccess,
  maskRecord,
  type AuditSettings,
  type MaskableItem,
  type RecordView,
} from './access.js';
import { parseInput } from './parse.js';
import * as repo from './resident.repository.js';
import type { Keyring } from '../keys/index.js';
import { recordOf } from './my-number.js';
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
  record: RecordView;
}

export interface Inquiry {
  personNo: PersonNo;
  removed: boolean;
  statusLabel: string;
  current: RecordView;
  /** Suppressions (抑止) in force on this person or their household, for every process. */
  suppressions: SuppressionHit[];
  /** Who is editing this person now, if anyone: others may only read. */
  editLock: { staffId: string; expiresAt: string; mine: boolean } | undefined;
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
  /** Name in any script: kanji, kana, Latin letters, alias, former surname; matched as `match` says. */
  name: z.string().trim().max(100).optional(),
  /** Date of birth in either calendar (`S50.4.1`, `昭和50年4月1日`, `1975-04-01`) or a year (`昭和50年頃`). */
  birthDate: z.string().trim().max(40).optional(),
  sex: Sex.optional(),
  /** Address (or 方書 with `contains`), past addresses included; the municipality's name may be left out. */
  address: z.string().trim().max(200).optional(),
  /**
   * How name and address match: 'prefix' (前方一致, from the start of the name, reading or address; fast at
   * any size) or 'contains' (部分一致, anywhere: a given name alone, a 方書; slower in a large city).
   */
  match: z.enum(['prefix', 'contains']).default('prefix'),
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
  /** Suppressions (抑止) in force, marked in results. */
  suppressions: Array<Pick<SuppressionHit, 'process' | 'level'>>;
  plannedMoveOut: string | undefined;
}

export interface SearchResult {
  total: number;
  page: number;
  pageSize: number;
  hits: SearchHit[];
  /** A name or address alone matched too many records to list (more than MAX_TEXT_MATCHES snapshots). */
  tooMany?: true;
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
  foreign: RecordView['foreign'];
  masked: MaskableItem[];
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

function hitOf(r: ResidentRecord, suppressions: readonly SuppressionHit[]): SearchHit {
  return {
    suppressions: suppressions.map((x) => ({ process: x.process, level: x.level })),
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

/** How an inquiry is asked: the purpose (from the configured list) and any hidden items to reveal. */
export const InquiryOptions = z.object({
  purpose: z.string().trim().min(1).max(100).optional(),
  /** The clerk saw the alert-level inquiry suppressions (抑止) and goes on. */
  confirmSuppression: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
    .optional(),
  reveal: z
    .union([z.array(z.enum(MASKABLE_ITEM_NAMES as [MaskableItem, ...MaskableItem[]])), z.string()])
    .optional()
    .transform((v, ctx) => {
      const items = typeof v === 'string' ? v.split(',').filter(Boolean) : (v ?? []);
      for (const item of items) {
        if (!(MASKABLE_ITEM_NAMES as string[]).includes(item)) {
          ctx.addIssue({ code: 'custom', message: '表示できない項目が指定されています。' });
          return z.NEVER;
        }
      }
      return [...new Set(items)] as MaskableItem[];
    }),
});
export type InquiryOptions = z.input<typeof InquiryOptions>;

/** Criteria that are names, numbers, addresses or dates: the log keeps only their keyed hashes. */
const SENSITIVE_CRITERIA = [
  'name',
  'birthDate',
  'address',
  'addressCode',
  'personNo',
  'householdNo',
  'myNumber',
  'residentCode',
  'residenceCardNo',
] as const;

export interface RegistryReadSettings {
  readonly inquiryPurposes: readonly string[];
  readonly editLockMinutes: number;
}

export class ResidentService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditSettings,
    private readonly settings: RegistryReadSettings,
    private readonly keyring: Keyring,
    /**
     * Where inquiries run: PostgreSQL's pool of prepared statements (`DatabaseHandle.preparedDb`), since an
     * inquiry's statements have the same texts every time. Searches stay on `db`, planned for their values.
     */
    private readonly preparedDb: Db = db,
  ) {}

  /** The purposes a staff member chooses from before opening a record. */
  purposes(actor: Actor): readonly string[] {
    requirePermission(actor, 'inquiry');
    return this.settings.inquiryPurposes;
  }

  /**
   * 照会: the current record and the whole history, oldest first. Needs a purpose from the configured list;
   * hidden items are shown only when asked for by a staff member permitted to see them. Logged, with
   * whether the 個人番号 was shown, before the data leaves the service.
   */
  async inquire(actor: Actor, personNoRaw: string, optionsRaw: InquiryOptions = {}): Promise<Inquiry> {
    return this.logged(
      actor,
      'inquiry',
      async (trx) => {
        requirePermission(actor, 'inquiry');
        const options = parseInput(InquiryOptions, optionsRaw);
        const purpose = this.checkPurpose(options.purpose);
        checkReveal(actor, options.reveal);
        const personNo = parseInput(PersonNoInput, personNoRaw);
        const current = await repo.findResident(trx, actor.lgCode, personNo, { includeArchive: true });
        if (!current) throw personNotFound();
        const rows = await repo.listHistory(trx, actor.lgCode, personNo);
        const keys = this.keyring.loaded(actor.lgCode);
        const record = recordOf(keys, current);
        const now = this.audit.clock.now();
        const today = this.audit.clock.today();
        const confirmedSuppressions = await checkSuppression(
          trx,
          actor.lgCode,
          {
            process: 'inquiry',
            personNos: [personNo],
            householdNos: [record.householdNo],
            confirmed: options.confirmSuppression,
          },
          now,
          today,
        );
        const person = { personNo, householdNo: record.householdNo };
        const suppressions =
          (await suppressionsByPerson(trx, actor.lgCode, [person], now, today)).get(personNo) ?? [];
        const reveal = new Set(options.reveal);
        const lock = await repo.findLock(trx, actor.lgCode, personNo, now);
        const facts = await factsAbout(trx, actor, [record], today);
        const inquiry: Inquiry = {
          personNo,
          removed: isRemoved(record.status),
          statusLabel: STATUS_LABEL[record.status],
          current: maskRecord(record, reveal),
          suppressions,
          editLock: lock
            ? {
                staffId: lock.staffId,
                expiresAt: lock.expiresAt.toISOString(),
                mine: lock.staffId === actor.staffId,
              }
            : undefined,
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
            record: maskRecord(recordOf(keys, h), reveal),
          })),
        };
        // The log entry last: appending holds a lane of the municipality's log until commit, so the
        // history is decrypted and masked before it; the data leaves the service only after the commit.
        await logAccess(trx, this.audit, actor, {
          function: options.reveal.length > 0 ? 'reveal' : 'inquiry',
          purpose,
          outcome: 'success',
          targetPersons: [personNo],
          myNumberAccessed: reveal.has('myNumber') && record.myNumber !== undefined,
          details: {
            ...(options.reveal.length > 0 ? { revealed: options.reveal } : {}),
            ...(confirmedSuppressions.length > 0
              ? { confirmedSuppressions: confirmedSuppressions.map((h) => h.suppressionId) }
              : {}),
          },
          facts,
        });
        return inquiry;
      },
      personNoRaw,
    );
  }

  /** The household: its head, current members in order, and members who left or were removed. */
  async household(
    actor: Actor,
    householdNoRaw: string,
    optionsRaw: InquiryOptions = {},
  ): Promise<HouseholdView> {
    return this.logged(actor, 'inquiry', async (trx) => {
      requirePermission(actor, 'inquiry');
      const purpose = this.checkPurpose(parseInput(InquiryOptions, optionsRaw).purpose);
      const householdNo = parseInput(HouseholdNoInput, householdNoRaw);
      if (!(await repo.householdExists(trx, actor.lgCode, householdNo))) {
        throw new NotFoundError(
          'HOUSEHOLD_NOT_FOUND',
          '指定された世帯番号の世帯が見つかりません。世帯番号を確認してください。',
        );
      }
      const rows = await repo.findHouseholdAllMembers(trx, actor.lgCode, householdNo);
      const records = rows.map((r) => ResidentRecord.parse(r.record));
      await logAccess(trx, this.audit, actor, {
        function: 'inquiry',
        purpose,
        outcome: 'success',
        targetPersons: records.map((r) => r.personNo),
        details: { householdNo },
        facts: await factsAbout(trx, actor, records, this.audit.clock.today()),
      });
      const members = rows.filter((r) => r.status === 'current').map(memberOf);
      const formerMembers = rows.filter((r) => r.status !== 'current').map(memberOf);
      const first = records.find((r) => r.status === 'current');
      return {
        householdNo,
        head: members.find((m) => m.relationship === '世帯主'),
        address: first ? formatAddress(first.address) : undefined,
        members,
        formerMembers,
      };
    });
  }

  /**
   * 検索: candidates matching every given criterion, removed records included and marked. Logged with the
   * criteria keyed-hashed (never names or numbers in clear) and the candidates shown.
   */
  async search(actor: Actor, raw: SearchCriteria): Promise<SearchResult> {
    return this.logged(actor, 'search', async (trx) => {
      requirePermission(actor, 'inquiry');
      const c = parseInput(SearchCriteria, raw);
      if (c.myNumber) requirePermission(actor, 'myNumberView');
      const birth = c.birthDate ? birthRange(c.birthDate) : undefined;
      const nameNorm = c.name ? normalizeForSearch(c.name) : undefined;
      const addressNorm = c.address ? normalizeForSearch(c.address) : undefined;
      const city = addressNorm ? await repo.findMunicipalityName(trx, actor.lgCode) : undefined;
      const { total, rows, tooMany } = await repo.searchResidents(trx, actor.lgCode, {
        nameNorm: nameNorm || undefined,
        addressNorm: addressNorm || undefined,
        match: c.match,
        cityNorm: city ? normalizeForSearch(city) : undefined,
        addressCode: c.addressCode,
        birthFrom: birth?.from,
        birthTo: birth?.to,
        sex: c.sex,
        personNo: c.personNo,
        householdNo: c.householdNo,
        myNumberIndex: c.myNumber ? this.keyring.loaded(actor.lgCode).blindIndex(c.myNumber) : undefined,
        residentCode: c.residentCode,
        residenceCardNo: c.residenceCardNo,
        status: c.status,
        limit: c.pageSize,
        offset: (c.page - 1) * c.pageSize,
      });
      const records = rows.map((r) => ResidentRecord.parse(r.record));
      const suppressions = await suppressionsByPerson(
        trx,
        actor.lgCode,
        records.map((r) => ({ personNo: r.personNo, householdNo: r.householdNo })),
        this.audit.clock.now(),
        this.audit.clock.today(),
      );
      const result = {
        total,
        page: c.page,
        pageSize: c.pageSize,
        hits: records.map((r) => hitOf(r, suppressions.get(r.personNo) ?? [])),
        ...(tooMany ? { tooMany } : {}),
      };
      const facts = await factsAbout(trx, actor, records, this.audit.clock.today());
      // The log entry last: appending holds a lane of the municipality's log until commit, so every
      // read and computation happens before it (see access-log.service.ts).
      await logAccess(trx, this.audit, actor, {
        function: 'search',
        outcome: 'success',
        targetPersons: records.map((r) => r.personNo),
        myNumberAccessed: c.myNumber !== undefined,
        criteria: protectCriteria(c, SENSITIVE_CRITERIA, this.audit.criteriaKey),
        details: tooMany ? { total, tooMany } : { total },
        facts,
      });
      return result;
    });
  }

  /** What a 転出証明書 states, for a person with a move-out recorded (pending or effective). */
  async moveOutCertificate(
    actor: Actor,
    personNoRaw: string,
    optionsRaw: InquiryOptions = {},
  ): Promise<MoveOutCertificateData> {
    return this.logged(
      actor,
      'inquiry',
      async (trx) => {
        requirePermission(actor, 'inquiry');
        const options = parseInput(InquiryOptions, optionsRaw);
        const purpose = this.checkPurpose(options.purpose);
        checkReveal(actor, options.reveal);
        const personNo = parseInput(PersonNoInput, personNoRaw);
        const row = await repo.findResident(trx, actor.lgCode, personNo);
        if (!row) throw personNotFound();
        const r = recordOf(this.keyring.loaded(actor.lgCode), row);
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
        const head = (await repo.findHouseholdAllMembers(trx, actor.lgCode, r.householdNo))
          .map((m) => ResidentRecord.parse(m.record))
          .find((m) => m.relationship === '世帯主' && (m.status === 'current' || m.personNo === r.personNo));
        const reveal = new Set(options.reveal);
        const shown = maskRecord(r, reveal);
        await logAccess(trx, this.audit, actor, {
          function: 'inquiry',
          purpose,
          outcome: 'success',
          targetPersons: [personNo],
          myNumberAccessed: shown.myNumber !== undefined,
          details: {
            view: 'moveOutCertificate',
            ...(options.reveal.length > 0 ? { revealed: options.reveal } : {}),
          },
          facts: await factsAbout(trx, actor, [r], this.audit.clock.today()),
        });
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
          honseki: shown.honseki,
          residentCode: shown.residentCode,
          myNumber: shown.myNumber,
          foreign: shown.foreign,
          masked: shown.masked,
        };
      },
      personNoRaw,
    );
  }

  /**
   * Takes the edit lock on a person before entering a change: others may only read until the change is
   * committed, the lock is released, or it expires.
   */
  async lockForEdit(actor: Actor, personNoRaw: string): Promise<{ expiresAt: string }> {
    requirePermission(actor, 'change');
    const personNo = parseInput(PersonNoInput, personNoRaw);
    const now = this.audit.clock.now();
    const expiresAt = new Date(now.getTime() + this.settings.editLockMinutes * 60_000);
    return this.db.transaction().execute(async (trx) => {
      if (!(await repo.findResident(trx, actor.lgCode, personNo))) throw personNotFound();
      const holder = await repo.acquireLock(trx, {
        lgCode: actor.lgCode,
        personNo,
        staffId: actor.staffId,
        sessionId: actor.sessionId,
        now,
        expiresAt,
      });
      if (holder) {
        throw new DomainError(
          'LOCKED_BY_OTHER',
          '他の職員がこの方の記録を編集中です。編集が終わるまでは参照のみ可能です。時間をおいて再度お試しください。',
          { until: holder.expiresAt.toISOString() },
        );
      }
      return { expiresAt: expiresAt.toISOString() };
    });
  }

  /** Ends the staff member's own edit lock (the edit was cancelled). */
  async releaseEdit(actor: Actor, personNoRaw: string): Promise<{ released: boolean }> {
    requirePermission(actor, 'change');
    const personNo = parseInput(PersonNoInput, personNoRaw);
    const n = await repo.releaseLocks(this.db, actor.lgCode, [personNo], actor.staffId);
    return { released: n > 0 };
  }

  private checkPurpose(purpose: string | undefined): string {
    if (!purpose || !this.settings.inquiryPurposes.includes(purpose)) {
      throw new DomainError(
        'PURPOSE_REQUIRED',
        '照会の目的を一覧から選んでください。目的を選ばずに住民の記録を開くことはできません。',
      );
    }
    return purpose;
  }

  /** Runs a read in one transaction with its log entry; a refusal is logged in a transaction of its own. */
  private async logged<T>(
    actor: Actor,
    fn: 'inquiry' | 'search',
    work: (trx: repo.Trx) => Promise<T>,
    target?: string,
  ): Promise<T> {
    try {
      // Before the transaction: the first use in a municipality creates its data keys (own transaction).
      await this.keyring.forMunicipality(actor.lgCode);
      return await (fn === 'search' ? this.db : this.preparedDb).transaction().execute(work);
    } catch (e) {
      if (e instanceof DomainError) {
        await this.db.transaction().execute((trx) =>
          logAccess(trx, this.audit, actor, {
            function: fn,
            outcome: 'refused',
            targetPersons: targetsOf({ personNo: target }),
            details: { code: e.code },
          }),
        );
      }
      throw e;
    }
  }
}
