/**
 * The change engine (異動処理). Each operation runs in one transaction: lock what it touches, check its
 * preconditions, build each person's next full snapshot, check the household invariants, then write the
 * change row, the snapshots and the outbox messages together. A refusal throws a DomainError and leaves
 * nothing written.
 */
import type { z } from 'zod';
import { pipelined, type Db } from '../db/index.js';
import {
  DomainError,
  NotFoundError,
  flexDateSortKey,
  householdNoFromSerial,
  isHead,
  normalizeForSearch,
  parseLgCode,
  personNoFromSerial,
  requirePermission,
  type Actor,
  type Clock,
  type HouseholdNo,
  type PersonNo,
  type PlainDate,
  type Relationship,
} from '../shared/index.js';
import type { NewPersonInput } from './change.js';
import {
  AliasInput,
  BirthInput,
  CancellationInput,
  CorrectionInput,
  DeathInput,
  ExOfficioEntryInput,
  ExOfficioRemovalInput,
  FormerSurnameInput,
  HeadChangeInput,
  HouseholdMergeInput,
  HouseholdSplitInput,
  MoveInInput,
  MoveInNoticeInput,
  MoveOutInput,
  MoveWithinInput,
  MyNumberChangeInput,
  checkNotFuture,
  kindOf,
  REASONS,
  type ChangeKind,
  type Reason,
} from './change.js';
import * as repo from './resident.repository.js';
import {
  ResidentRecord,
  STATUS_LABEL,
  checkKindItems,
  type Address,
  type PreviousAddress,
  type ResidentStatus,
} from './resident.js';
import { suppressionLookUp, type SuppressionCheck } from '../protection/index.js';
import { parseInput } from './parse.js';
import { flowCountsOf } from './statistics.js';
import {
  factsAbout,
  logAccess,
  maskRecord,
  targetsOf,
  type AuditSettings,
  type RecordView,
} from './access.js';
import type { Keyring, MunicipalityKeys } from '../keys/index.js';
import {
  myNumberColumns,
  outboxMyNumberBinding,
  recordOf,
  storedRecord,
  withoutMyNumbers,
} from './my-number.js';

export type { Actor };

export interface ChangeResult {
  changeId: number;
  changeType: string;
  reason: Reason;
  kind: ChangeKind;
  effectiveDate: string;
  persons: Array<{ personNo: PersonNo; historySeq: number }>;
  householdNos: HouseholdNo[];
}

/** The change operations a clerk enters, by method name: what `preview` can dry-run. */
export type ChangeOperation =
  | 'moveIn'
  | 'birth'
  | 'moveWithin'
  | 'moveOut'
  | 'recordMoveInNotice'
  | 'householdSplit'
  | 'householdMerge'
  | 'headChange'
  | 'death'
  | 'exOfficioEntry'
  | 'exOfficioRemoval'
  | 'correct'
  | 'changeMyNumber'
  | 'formerSurname'
  | 'alias'
  | 'cancel';

/** What a change would write, shown to the clerk before committing it (masked as the inquiry masks). */
export interface ChangePreview {
  changeType: string;
  reason: Reason;
  reasonLabel: string;
  kind: ChangeKind;
  effectiveDate: string;
  persons: Array<{
    /** A person entering the register: the 宛名番号 in `record` is only provisional until the commit. */
    entering: boolean;
    historySeq: number;
    record: RecordView;
  }>;
  householdNos: HouseholdNo[];
  /** Households the change would set up: their numbers are given only at the commit. */
  newHouseholdNos: HouseholdNo[];
}

/** Thrown by `commit` in a dry run, after every check, to roll the whole transaction back. */
class DryRunRollback extends Error {
  constructor(
    readonly draft: ChangeDraft,
    readonly records: ReadonlyArray<{ before: Loaded | undefined; after: ResidentRecord }>,
  ) {
    super('dry run: rolled back');
  }
}

interface Loaded {
  seq: number;
  record: ResidentRecord;
}

interface Update {
  before: Loaded | undefined;
  after: ResidentRecord;
}

/** Serials counted down from the top of the range, which the counters never reach in practice. */
const PROVISIONAL_TOP = 999_999_999;

/**
 * The 宛名番号 and 世帯番号 a change gives. While the change is built and checked they are provisional
 * (the top of the range, counted down); `commit` takes the real ones from the counters (see the service's
 * `numbering`) only when every check up to the edit locks has passed, and puts them in place of the
 * provisional ones.
 */
class NewNumbers {
  readonly persons: PersonNo[] = [];
  readonly households: HouseholdNo[] = [];

  person(): PersonNo {
    const no = personNoFromSerial(PROVISIONAL_TOP - this.persons.length);
    this.persons.push(no);
    return no;
  }

  household(): HouseholdNo {
    const no = householdNoFromSerial(PROVISIONAL_TOP - this.households.length);
    this.households.push(no);
    return no;
  }

  /** The numbers given (serials from the counters, in order) and records with them in place. */
  give(serials: { persons: readonly number[]; households: readonly number[] }): {
    householdNos: HouseholdNo[];
    inRecord: (r: ResidentRecord) => ResidentRecord;
  } {
    const persons = new Map(
      this.persons.map((p, i) => [p as string, personNoFromSerial(serials.persons[i]!)]),
    );
    const households = new Map(
      this.households.map((h, i) => [h as string, householdNoFromSerial(serials.households[i]!)]),
    );
    return {
      householdNos: [...households.values()],
      inRecord: (r) => {
        const personNo = persons.get(r.personNo) ?? r.personNo;
        const householdNo = households.get(r.householdNo) ?? r.householdNo;
        return personNo === r.personNo && householdNo === r.householdNo ? r : { ...r, personNo, householdNo };
      },
    };
  }
}

/** What a change's transaction has set aside for its commit. */
interface TransactionState {
  numbers: NewNumbers;
  /**
   * Current members of the households read under their lock in this transaction (none can join or leave
   * until commit), by 世帯番号; a household the change sets up has none. `checkHouseholds` reads no
   * household twice.
   */
  members: Map<string, readonly Loaded[]>;
  /**
   * Rows read for update in this transaction, mapped, by 宛名番号:履歴番号: read again (a mover among the
   * members of the household), a row locked since is the same row and is not parsed and decrypted twice.
   */
  locked: Map<string, Loaded>;
}

interface ChangeDraft {
  changeType: string;
  reason: Reason;
  effectiveDate: string;
  notifiedOn: string | undefined;
  notes: string | undefined;
  payload: Record<string, unknown>;
  cancelsChangeId?: number;
  updates: Update[];
  /** Households whose current members must have exactly one head after the change. */
  headRequired?: Iterable<string>;
  /** Batch completion of a move-out already entered is not a clerk's change entry: suppression is not asked. */
  skipSuppression?: boolean;
}

/** Items sent to Juki-net as 本人確認情報 when any of them changes. */
const IDENTITY_ITEMS = [
  'name',
  'reading',
  'birthDate',
  'sex',
  'address',
  'residentCode',
  'myNumber',
  'status',
] as const;

/** 本人確認情報 for Juki-net; the 個人番号 is added encrypted by `commit` (my-number.ts). */
function identityOf(r: Omit<ResidentRecord, 'myNumber'>) {
  return {
    personNo: r.personNo,
    kind: r.kind,
    name: r.name,
    latinName: r.foreign?.latinName,
    reading: r.reading,
    birthDate: r.birthDate,
    sex: r.sex,
    address: r.address,
    residentCode: r.residentCode,
    status: r.status,
  };
}

function identityChanged(before: ResidentRecord | undefined, after: ResidentRecord): boolean {
  if (!before) return true;
  return IDENTITY_ITEMS.some((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/** The values of a record that the history's search columns hold (before `storedSearchColumns`). */
export interface SearchColumns {
  nameNorm: string;
  kanaNorm: string;
  otherNamesNorm: string;
  addressNorm: string;
  birthSort: string | null;
  sex: string;
  residentCode: string | null;
  residenceCardNo: string | null;
}

export function searchColumnsOf(
  r: ResidentRecord,
  normalize: (s: string) => string = normalizeForSearch,
): SearchColumns & { kanaSort: string } {
  const n = (s: string | undefined) => (s ? normalize(s) : '');
  const names = [r.name ? `${r.name.family}${r.name.given}` : '', r.foreign?.latinName ?? ''].filter(Boolean);
  const others = [
    r.foreign?.alias?.name,
    r.foreign?.alias?.reading,
    ...(r.foreign?.aliasHistory ?? []).flatMap((a) => [a.name, a.reading]),
    r.formerSurname?.surname,
    r.formerSurname?.reading,
  ].filter((s): s is string => Boolean(s));
  const kana = n(`${r.reading.family}${r.reading.given}`);
  return {
    nameNorm: names.map(n).join('|'),
    kanaNorm: kana,
    otherNamesNorm: others.map(n).join('|'),
    addressNorm: n(`${r.address.text}${r.address.katagaki ?? ''}`),
    birthSort: flexDateSortKey(r.birthDate) ?? null,
    sex: r.sex,
    residentCode: r.residentCode ?? null,
    residenceCardNo:
      r.foreign?.status.category === 'midLongTerm'
        ? r.foreign.status.residenceCardNo
        : r.foreign?.status.category === 'specialPermanent'
          ? r.foreign.status.certificateNo
          : null,
    kanaSort: kana,
  };
}

/**
 * The history's search columns that hold a value only where it differs from the person's previous
 * snapshot (migration 0017). Search asks whether a person ever had a value (`everHad`), so one snapshot
 * carrying it is enough; a move within then adds no entry to the name, reading and birth-date indexes,
 * whose partial indexes leave the nulls out. The other columns keep a value in every snapshot: the check
 * that a 個人番号 or 住民票コード is free reads the current snapshot's (their indexes cover the snapshots
 * where they changed instead: `numbersChanged`, 0018), and the annual statistics read a past snapshot's
 * household and sex (its birth date from the record).
 */
export function storedSearchColumns(
  search: SearchColumns,
  previous: SearchColumns | undefined,
): Omit<repo.SnapshotWrite['search'], 'myNumberIndex' | 'myNumberEnc'> {
  const once = <K extends keyof SearchColumns>(k: K): SearchColumns[K] | null =>
    previous !== undefined && previous[k] === search[k] ? null : search[k];
  return {
    ...search,
    nameNorm: once('nameNorm'),
    kanaNorm: once('kanaNorm'),
    otherNamesNorm: once('otherNamesNorm'),
    addressNorm: once('addressNorm'),
    birthSort: once('birthSort'),
    residenceCardNo: once('residenceCardNo'),
  };
}

/** A person's first snapshot, or one whose 個人番号 or 住民票コード differs from the previous (migration 0018). */
export function numbersChanged(before: ResidentRecord | undefined, after: ResidentRecord): boolean {
  return !before || before.myNumber !== after.myNumber || before.residentCode !== after.residentCode;
}

const refuse = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError(code, message, details);

export class ChangeService {
  /** A twin of this service whose commits stop after every check and roll back (see `preview`). */
  private dryRunner: ChangeService | undefined;
  /** Per open change transaction; `commit` ends it. */
  private readonly transactions = new WeakMap<repo.Trx, TransactionState>();

  private readonly numbering: Db | undefined;
  private readonly dryRun: boolean;

  /**
   * `options.numbering`: where the 宛名番号/世帯番号 counters are stepped — on PostgreSQL the database's
   * autonomous connection (`DatabaseHandle.autonomous`), so a counter row is locked for one statement and not
   * through each change's commit, and a municipality's changes run side by side (a change that fails leaves
   * a gap in the numbers). Without it (the embedded database, whose one connection serialises everything
   * anyway) they are stepped in the change's own transaction and stay gap-free.
   */
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditSettings,
    private readonly keyring: Keyring,
    options: { numbering?: Db | undefined; dryRun?: boolean } = {},
  ) {
    this.numbering = options.numbering;
    this.dryRun = options.dryRun ?? false;
  }

  private state(trx: repo.Trx): TransactionState {
    let state = this.transactions.get(trx);
    if (!state) {
      state = { numbers: new NewNumbers(), members: new Map(), locked: new Map() };
      this.transactions.set(trx, state);
    }
    return state;
  }

  /** The municipality's data keys, loaded by `run` before any transaction opens. */
  private keys(actor: Actor): MunicipalityKeys {
    return this.keyring.loaded(actor.lgCode);
  }

  /**
   * Dry run (確認): runs the change in its transaction with every check of the real one — permission,
   * suppression (抑止), edit lock, the domain rules — then rolls the whole transaction back, so nothing is
   * left: no change, history, outbox message or number taken from the counter. Returns the snapshots the
   * change would write, masked as the inquiry masks them. Showing them is logged as an inquiry, in a
   * transaction of its own after the rollback (persons entering the register are not named: their numbers
   * were not taken).
   */
  /** Runs a change operation by name (the HTTP routes' way in). */
  operate(operation: ChangeOperation, actor: Actor, raw: unknown): Promise<ChangeResult> {
    // Each operation parses its input: it is the trust boundary for every caller.
    const input = raw as never;
    switch (operation) {
      case 'moveIn':
        return this.moveIn(actor, input);
      case 'birth':
        return this.birth(actor, input);
      case 'moveWithin':
        return this.moveWithin(actor, input);
      case 'moveOut':
        return this.moveOut(actor, input);
      case 'recordMoveInNotice':
        return this.recordMoveInNotice(actor, input);
      case 'householdSplit':
        return this.householdSplit(actor, input);
      case 'householdMerge':
        return this.householdMerge(actor, input);
      case 'headChange':
        return this.headChange(actor, input);
      case 'death':
        return this.death(actor, input);
      case 'exOfficioEntry':
        return this.exOfficioEntry(actor, input);
      case 'exOfficioRemoval':
        return this.exOfficioRemoval(actor, input);
      case 'correct':
        return this.correct(actor, input);
      case 'changeMyNumber':
        return this.changeMyNumber(actor, input);
      case 'formerSurname':
        return this.formerSurname(actor, input);
      case 'alias':
        return this.alias(actor, input);
      case 'cancel':
        return this.cancel(actor, input);
    }
  }

  async preview(actor: Actor, operation: ChangeOperation, raw: unknown): Promise<ChangePreview> {
    this.dryRunner ??= new ChangeService(this.db, this.clock, this.audit, this.keyring, { dryRun: true });
    const dry = this.dryRunner;
    let rollback: DryRunRollback;
    try {
      await dry.operate(operation, actor, raw);
      throw new Error(`the dry run of ${operation} reached no commit`);
    } catch (e) {
      if (!(e instanceof DryRunRollback)) throw e;
      rollback = e;
    }
    const { draft, records } = rollback;
    const householdNos = [...new Set(records.map((r) => r.after.householdNo))];
    const newHouseholdNos: HouseholdNo[] = [];
    for (const h of householdNos) {
      if (!(await repo.householdExists(this.db, actor.lgCode, h))) newHouseholdNos.push(h);
    }
    const existing = records.filter((r) => r.before !== undefined).map((r) => r.after);
    await this.db.transaction().execute(async (trx) =>
      logAccess(trx, this.audit, actor, {
        function: 'inquiry',
        purpose: '異動入力の確認',
        outcome: 'success',
        targetPersons: existing.map((r) => r.personNo),
        details: { preview: true, changeType: draft.changeType, reason: draft.reason },
        facts: await factsAbout(trx, actor, existing, this.clock.today()),
      }),
    );
    return {
      changeType: draft.changeType,
      reason: draft.reason,
      reasonLabel: REASONS[draft.reason].label,
      kind: kindOf(draft.reason),
      effectiveDate: draft.effectiveDate,
      persons: records.map((r) => ({
        entering: r.before === undefined,
        historySeq: (r.before?.seq ?? 0) + 1,
        record: maskRecord(r.after, new Set()),
      })),
      householdNos,
      newHouseholdNos,
    };
  }

  /**
   * Runs a change operation for a staff member holding the `change` permission (the batch job: `batch`).
   * A refusal is logged too — in a transaction of its own, since the change's transaction rolled back.
   */
  private async run<T>(
    actor: Actor,
    what: { changeType: string; raw?: unknown; permission?: 'change' | 'batch' },
    work: () => Promise<T>,
  ): Promise<T> {
    const { changeType, permission = 'change' } = what;
    try {
      requirePermission(actor, permission);
      // Before any transaction: the first use in a municipality creates its data keys (own transaction).
      await this.keyring.forMunicipality(actor.lgCode);
      return await work();
    } catch (e) {
      if (e instanceof DomainError) {
        await this.db.transaction().execute((trx) =>
          logAccess(trx, this.audit, actor, {
            function: permission === 'batch' ? 'batch' : 'change',
            outcome: 'refused',
            targetPersons: targetsOf(what.raw),
            details: { changeType, code: e.code, ...(this.dryRun ? { preview: true } : {}) },
          }),
        );
      }
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Entries

  /** 転入: one or more persons from another municipality or from abroad, forming or joining a household. */
  async moveIn(actor: Actor, raw: MoveInInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'moveIn', raw }, async () => {
      const input = parseInput(MoveInInput, raw);
      for (const m of input.members) {
        if (input.origin === 'domestic' && m.kind === 'japanese' && input.previousAddress.abroad) {
          throw refuse('PREVIOUS_ADDRESS_ABROAD', '国内からの転入では前住所に国内の住所を入力してください。');
        }
      }
      if (input.origin === 'abroad' && !input.previousAddress.abroad) {
        throw refuse(
          'PREVIOUS_ADDRESS_NOT_ABROAD',
          '国外からの転入では前住所に国外の住所（国名）を入力してください。',
        );
      }
      const reason: Reason = input.origin === 'abroad' ? 'moveInFromAbroad' : 'domesticMoveIn';
      return this.enter(actor, 'moveIn', reason, input, raw);
    });
  }

  /** 職権記載: entry by the mayor's authority (e.g. after naturalisation or a court decision). */
  async exOfficioEntry(actor: Actor, raw: ExOfficioEntryInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'exOfficioEntry', raw }, async () => {
      const input = parseInput(ExOfficioEntryInput, raw);
      return this.enter(actor, 'exOfficioEntry', 'exOfficioEntry', input, raw);
    });
  }

  private async enter(
    actor: Actor,
    changeType: string,
    reason: Reason,
    input: z.output<typeof ExOfficioEntryInput>,
    raw: unknown,
  ): Promise<ChangeResult> {
    const today = this.clock.today();
    checkNotFuture(input.effectiveDate, today);
    this.checkDistinctNumbers(input.members);
    return this.db.transaction().execute(async (trx) => {
      const { householdNo, order, isNew } = await this.targetHousehold(trx, actor, input.household);
      const updates: Update[] = [];
      let nextOrder = order;
      // All members in one look-up: any of them already registered refuses the whole entry.
      await this.checkNotRegistered(trx, actor, input.members);
      for (const m of input.members) {
        const personNo = this.state(trx).numbers.person();
        updates.push({
          before: undefined,
          after: this.newRecord(personNo, m, {
            householdNo,
            householdOrder: nextOrder++,
            residentSince: input.effectiveDate,
            address: input.address,
            addressSetOn: input.effectiveDate,
            notifiedOn: input.notifiedOn ?? today,
            previousAddress: input.previousAddress,
          }),
        });
      }
      return this.commit(trx, actor, {
        changeType,
        reason,
        effectiveDate: input.effectiveDate,
        notifiedOn: input.notifiedOn,
        notes: input.notes,
        payload: raw as Record<string, unknown>,
        updates,
        headRequired: isNew ? [householdNo] : [],
      });
    });
  }

  /** 出生: a child entered into an existing household at its address. */
  async birth(actor: Actor, raw: BirthInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'birth', raw }, async () => {
      const input = parseInput(BirthInput, raw);
      const today = this.clock.today();
      checkNotFuture(input.effectiveDate, today);
      const birth = input.child.birthDate;
      if (birth.kind === 'exact' && birth.date !== input.effectiveDate) {
        throw refuse('BIRTH_DATE_MISMATCH', '出生の異動日は生年月日と同じ日付にしてください。');
      }
      return this.db.transaction().execute(async (trx) => {
        if (!(await repo.lockHousehold(trx, actor.lgCode, input.householdNo))) {
          throw householdNotFound();
        }
        const members = await this.loadMembers(trx, actor, input.householdNo);
        const anchor = members[0];
        if (!anchor) {
          throw refuse(
            'HOUSEHOLD_EMPTY',
            'この世帯には現在の世帯員がいません。出生の届出は世帯員のいる世帯に記載してください。',
          );
        }
        await this.checkNotRegistered(trx, actor, [input.child]);
        const personNo = this.state(trx).numbers.person();
        const order = (await repo.maxHouseholdOrder(trx, actor.lgCode, input.householdNo)) + 1;
        const child = this.newRecord(personNo, input.child, {
          householdNo: input.householdNo,
          householdOrder: order,
          residentSince: input.effectiveDate,
          address: anchor.record.address,
          addressSetOn: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          previousAddress: undefined,
        });
        return this.commit(trx, actor, {
          changeType: 'birth',
          reason: 'birth',
          effectiveDate: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: raw,
          updates: [{ before: undefined, after: child }],
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Moves

  /** 転居: a move within the municipality, of the whole household or of some members. */
  async moveWithin(actor: Actor, raw: MoveWithinInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'moveWithin', raw }, async () => {
      const input = parseInput(MoveWithinInput, raw);
      checkNotFuture(input.effectiveDate, this.clock.today());
      checkDistinct(input.personNos);
      return this.db.transaction().execute(async (trx) => {
        // A household joined is locked with the movers' own, in household order: two moves between the
        // same two households in opposite directions then wait for each other instead of deadlocking.
        const joining = input.household.mode === 'join' ? [input.household.householdNo] : [];
        const {
          movers,
          householdNo: fromHousehold,
          members,
        } = await this.loadMovers(trx, actor, input.personNos, joining);
        const moving = new Set<string>(input.personNos);
        const staying = members.filter((m) => !moving.has(m.record.personNo));
        const moved = (r: ResidentRecord): ResidentRecord => ({
          ...r,
          address: input.address,
          addressSetOn: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          previousAddress: {
            text: r.address.katagaki ? `${r.address.text} ${r.address.katagaki}` : r.address.text,
            abroad: false,
          },
        });
        const updates: Update[] = [];
        const headRequired: string[] = [];
        const target = input.household;
        if (target.mode === 'same') {
          if (staying.length > 0) {
            throw refuse(
              'PARTIAL_MOVE_NEEDS_HOUSEHOLD',
              '世帯の一部の方が転居する場合は、新しい世帯を作るか、転居先の世帯に加わるかを指定してください。',
            );
          }
          for (const m of movers) updates.push({ before: m, after: moved(m.record) });
        } else {
          const relationships = relationshipMap(target.relationships, input.personNos);
          let householdNo: HouseholdNo;
          let order: number;
          if (target.mode === 'new') {
            householdNo = this.newHousehold(trx);
            order = 1;
          } else {
            householdNo = target.householdNo;
            if (householdNo === fromHousehold) {
              throw refuse(
                'SAME_HOUSEHOLD',
                '転居先の世帯が現在の世帯と同じです。世帯全員の転居として入力してください。',
              );
            }
            if (!(await repo.lockHousehold(trx, actor.lgCode, householdNo))) throw householdNotFound();
            order = (await repo.maxHouseholdOrder(trx, actor.lgCode, householdNo)) + 1;
          }
          headRequired.push(householdNo);
          for (const m of movers) {
            updates.push({
              before: m,
              after: {
                ...moved(m.record),
                householdNo,
                householdOrder: order++,
                relationship: relationships.get(m.record.personNo)!,
              },
            });
          }
          if (staying.length > 0) {
            updates.push(...this.resetRelationships(staying, input.remainingRelationships));
            if (
              movers.some((m) => isHead(m.record.relationship)) ||
              input.remainingRelationships.length > 0
            ) {
              headRequired.push(fromHousehold);
            }
          }
        }
        return this.commit(trx, actor, {
          changeType: 'moveWithin',
          reason: 'moveWithin',
          effectiveDate: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: raw,
          updates,
          headRequired,
        });
      });
    });
  }

  /**
   * 転出: removes the persons on the planned date. A planned date after today keeps them current with the
   * planned move-out recorded; the removal then takes effect on the earlier of the planned date and the
   * move-in date the new municipality reports (`recordMoveInNotice`, `completeDueMoveOuts`).
   */
  async moveOut(actor: Actor, raw: MoveOutInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'moveOut', raw }, async () => {
      const input = parseInput(MoveOutInput, raw);
      const today = this.clock.today();
      checkNotFuture(input.notifiedOn, today, '届出日');
      checkDistinct(input.personNos);
      const immediate = input.plannedDate <= today;
      const reason: Reason = input.destination.abroad ? 'moveOutAbroad' : 'domesticMoveOut';
      if (!immediate && input.remainingRelationships.length > 0) {
        throw refuse(
          'HEAD_CHANGE_AFTER_MOVE_OUT',
          '転出予定日が未来の場合、残る世帯員の世帯主変更は転出の効力発生後に入力してください。',
        );
      }
      return this.db.transaction().execute(async (trx) => {
        const { movers, householdNo, members } = await this.loadMovers(trx, actor, input.personNos);
        for (const m of movers) {
          if (m.record.plannedMoveOut) {
            throw refuse(
              'MOVE_OUT_ALREADY_PLANNED',
              'この方はすでに転出予定です。変更する場合は先の転出を取り消してください。',
              {
                personNo: m.record.personNo,
              },
            );
          }
        }
        const moving = new Set<string>(input.personNos);
        const staying = members.filter((m) => !moving.has(m.record.personNo));
        const updates: Update[] = movers.map((m) => ({
          before: m,
          after: immediate
            ? removed(m.record, 'movedOut', {
                reason,
                effectiveDate: input.plannedDate,
                destination: input.destination,
              })
            : {
                ...m.record,
                plannedMoveOut: {
                  plannedDate: input.plannedDate,
                  destination: input.destination,
                  notifiedOn: input.notifiedOn,
                },
              },
        }));
        const headRequired: string[] = [];
        if (input.remainingRelationships.length > 0) {
          updates.push(...this.resetRelationships(staying, input.remainingRelationships));
          headRequired.push(householdNo);
        }
        return this.commit(trx, actor, {
          changeType: 'moveOut',
          reason: immediate ? reason : 'plannedMoveOut',
          effectiveDate: input.plannedDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: {
            ...(raw as Record<string, unknown>),
            moveOutCertificates: movers.map((m) => m.record.personNo),
          },
          updates,
          headRequired,
        });
      });
    });
  }

  /**
   * 転入通知: the new municipality reports the move-in date. A pending move-out is removed on the earlier
   * of the planned date and the move-in date; a removal already made on the planned date is moved back to
   * the move-in date if that was earlier.
   */
  async recordMoveInNotice(actor: Actor, raw: MoveInNoticeInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'recordMoveInNotice', raw }, async () => {
      const input = parseInput(MoveInNoticeInput, raw);
      checkNotFuture(input.moveInDate, this.clock.today(), '転入日');
      return this.db.transaction().execute(async (trx) => {
        const p = await this.load(trx, actor, input.personNo, true);
        const r = p.record;
        const plan = r.plannedMoveOut;
        if (r.status === 'current' && plan) {
          const effectiveDate = input.moveInDate < plan.plannedDate ? input.moveInDate : plan.plannedDate;
          const reason: Reason = plan.destination.abroad ? 'moveOutAbroad' : 'domesticMoveOut';
          return this.commit(trx, actor, {
            changeType: 'moveOutRemoval',
            reason,
            effectiveDate,
            notifiedOn: undefined,
            notes: input.notes,
            payload: raw,
            updates: [
              {
                before: p,
                after: removed(
                  { ...r, plannedMoveOut: { ...plan, moveInNoticeDate: input.moveInDate } },
                  'movedOut',
                  { reason, effectiveDate, destination: plan.destination },
                ),
              },
            ],
          });
        }
        if (r.status === 'movedOut' && r.removal) {
          const effectiveDate =
            input.moveInDate < r.removal.effectiveDate ? input.moveInDate : r.removal.effectiveDate;
          return this.commit(trx, actor, {
            changeType: 'moveInNotice',
            reason: 'moveInNoticeReceived',
            effectiveDate,
            notifiedOn: undefined,
            notes: input.notes,
            payload: raw,
            updates: [
              {
                before: p,
                after: {
                  ...r,
                  ...(r.plannedMoveOut
                    ? { plannedMoveOut: { ...r.plannedMoveOut, moveInNoticeDate: input.moveInDate } }
                    : {}),
                  removal: { ...r.removal, effectiveDate },
                },
              },
            ],
          });
        }
        throw refuse('NO_MOVE_OUT', 'この方には転出の届出がありません。転入通知を受理できません。');
      });
    });
  }

  /** Batch: removes every pending mover whose planned date has come (runs daily and at start-up). */
  async completeDueMoveOuts(actor: Actor): Promise<ChangeResult[]> {
    return this.run(actor, { changeType: 'completeDueMoveOuts', permission: 'batch' }, async () => {
      const today = this.clock.today();
      const due = await repo.findDueMoveOuts(this.db, actor.lgCode, today);
      const results: ChangeResult[] = [];
      for (const personNo of due) {
        const result = await this.db.transaction().execute(async (trx) => {
          const p = await this.load(trx, actor, personNo, true);
          const plan = p.record.plannedMoveOut;
          if (p.record.status !== 'current' || !plan || plan.plannedDate > today) return undefined;
          const reason: Reason = plan.destination.abroad ? 'moveOutAbroad' : 'domesticMoveOut';
          return this.commit(trx, actor, {
            changeType: 'moveOutRemoval',
            skipSuppression: true,
            reason,
            effectiveDate: plan.plannedDate,
            notifiedOn: undefined,
            notes: undefined,
            payload: { personNo, plannedDate: plan.plannedDate },
            updates: [
              {
                before: p,
                after: removed(p.record, 'movedOut', {
                  reason,
                  effectiveDate: plan.plannedDate,
                  destination: plan.destination,
                }),
              },
            ],
          });
        });
        if (result) results.push(result);
      }
      await this.db.transaction().execute((trx) =>
        logAccess(trx, this.audit, actor, {
          function: 'batch',
          outcome: 'success',
          targetPersons: results.flatMap((r) => r.persons.map((p) => p.personNo)),
          details: { job: 'completeDueMoveOuts', removed: results.length },
        }),
      );
      return results;
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Household changes (世帯変更)

  /** 世帯分離: some members leave to form a new household at the same address. */
  async householdSplit(actor: Actor, raw: HouseholdSplitInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'householdSplit', raw }, async () => {
      const input = parseInput(HouseholdSplitInput, raw);
      checkNotFuture(input.effectiveDate, this.clock.today());
      const leaving = input.members.map((m) => m.personNo);
      checkDistinct(leaving);
      return this.db.transaction().execute(async (trx) => {
        if (!(await repo.lockHousehold(trx, actor.lgCode, input.householdNo))) throw householdNotFound();
        const members = await this.loadMembers(trx, actor, input.householdNo);
        const byNo = new Map(members.map((m) => [m.record.personNo as string, m]));
        for (const p of leaving) {
          if (!byNo.has(p)) throw notAMember();
        }
        if (leaving.length === members.length) {
          throw refuse(
            'SPLIT_ALL_MEMBERS',
            '世帯全員を分離することはできません。残る世帯員を確認してください。',
          );
        }
        const householdNo = this.newHousehold(trx);
        let order = 1;
        const updates: Update[] = input.members.map((m) => {
          const p = byNo.get(m.personNo)!;
          return {
            before: p,
            after: { ...p.record, householdNo, householdOrder: order++, relationship: m.relationship },
          };
        });
        const staying = members.filter((m) => !leaving.includes(m.record.personNo));
        updates.push(...this.resetRelationships(staying, input.remainingRelationships));
        return this.commit(trx, actor, {
          changeType: 'householdSplit',
          reason: 'householdSplit',
          effectiveDate: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: raw,
          updates,
          headRequired: [householdNo, input.householdNo],
        });
      });
    });
  }

  /** 世帯合併: every member of one household joins another; relationships re-set to its head. */
  async householdMerge(actor: Actor, raw: HouseholdMergeInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'householdMerge', raw }, async () => {
      const input = parseInput(HouseholdMergeInput, raw);
      checkNotFuture(input.effectiveDate, this.clock.today());
      if (input.fromHouseholdNo === input.intoHouseholdNo) {
        throw refuse('SAME_HOUSEHOLD', '合併元と合併先の世帯が同じです。');
      }
      return this.db.transaction().execute(async (trx) => {
        for (const h of [input.fromHouseholdNo, input.intoHouseholdNo].sort()) {
          if (!(await repo.lockHousehold(trx, actor.lgCode, h))) throw householdNotFound();
        }
        const from = await this.loadMembers(trx, actor, input.fromHouseholdNo);
        const into = await this.loadMembers(trx, actor, input.intoHouseholdNo);
        if (from.length === 0 || into.length === 0) {
          throw refuse('HOUSEHOLD_EMPTY', '合併元・合併先の世帯にはそれぞれ現在の世帯員が必要です。');
        }
        const rel = relationshipMap(
          input.relationships,
          [...from, ...into].map((m) => m.record.personNo),
          { partial: true },
        );
        for (const m of from) {
          if (!rel.has(m.record.personNo)) {
            throw refuse(
              'RELATIONSHIP_REQUIRED',
              '合併する世帯の全員について、新しい世帯主との続柄を入力してください。',
            );
          }
        }
        let order = (await repo.maxHouseholdOrder(trx, actor.lgCode, input.intoHouseholdNo)) + 1;
        const updates: Update[] = from.map((m) => ({
          before: m,
          after: {
            ...m.record,
            householdNo: input.intoHouseholdNo,
            householdOrder: order++,
            relationship: rel.get(m.record.personNo)!,
            address: into[0]!.record.address,
          },
        }));
        for (const m of into) {
          const r = rel.get(m.record.personNo);
          if (r && r !== m.record.relationship)
            updates.push({ before: m, after: { ...m.record, relationship: r } });
        }
        return this.commit(trx, actor, {
          changeType: 'householdMerge',
          reason: 'householdMerge',
          effectiveDate: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: raw,
          updates,
          headRequired: [input.intoHouseholdNo],
        });
      });
    });
  }

  /** 世帯主変更: a new head; every member's relationship re-set. */
  async headChange(actor: Actor, raw: HeadChangeInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'headChange', raw }, async () => {
      const input = parseInput(HeadChangeInput, raw);
      checkNotFuture(input.effectiveDate, this.clock.today());
      return this.db.transaction().execute(async (trx) => {
        if (!(await repo.lockHousehold(trx, actor.lgCode, input.householdNo))) throw householdNotFound();
        const members = await this.loadMembers(trx, actor, input.householdNo);
        const rel = relationshipMap(
          input.relationships,
          members.map((m) => m.record.personNo),
        );
        if (rel.size !== members.length) {
          throw refuse('RELATIONSHIP_REQUIRED', '世帯主変更では、世帯員全員の新しい続柄を入力してください。');
        }
        const updates = members
          .filter((m) => rel.get(m.record.personNo) !== m.record.relationship)
          .map((m) => ({ before: m, after: { ...m.record, relationship: rel.get(m.record.personNo)! } }));
        if (updates.length === 0) {
          throw refuse('NOTHING_CHANGED', '続柄に変更がありません。');
        }
        return this.commit(trx, actor, {
          changeType: 'headChange',
          reason: 'headChange',
          effectiveDate: input.effectiveDate,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: raw,
          updates,
          headRequired: [input.householdNo],
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Removals

  /** 死亡: removes the person; the household may be left without a head. */
  async death(actor: Actor, raw: DeathInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'death', raw }, async () => {
      const input = parseInput(DeathInput, raw);
      const key = flexDateSortKey(input.deathDate);
      if (key && key > this.clock.today()) {
        throw refuse('FUTURE_EFFECTIVE_DATE', '死亡日に未来の日付は指定できません。');
      }
      return this.onePerson(actor, input, raw, { changeType: 'death', reason: 'death' }, (p) =>
        removed(p.record, 'dead', {
          reason: 'death',
          effectiveDate: input.effectiveDate,
          deathDate: input.deathDate,
        }),
      );
    });
  }

  /** 職権消除: removal by the mayor's authority (e.g. no longer living at the address, 失踪宣告). */
  async exOfficioRemoval(actor: Actor, raw: ExOfficioRemovalInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'exOfficioRemoval', raw }, async () => {
      const input = parseInput(ExOfficioRemovalInput, raw);
      return this.onePerson(
        actor,
        { ...input, notes: input.notes ?? input.ground },
        raw,
        { changeType: 'exOfficioRemoval', reason: 'exOfficioRemoval' },
        (p) =>
          removed(p.record, input.status, { reason: 'exOfficioRemoval', effectiveDate: input.effectiveDate }),
      );
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Corrections

  /** 軽微修正 / 誤記修正 / 職権修正 of the record's items. Removed records may be corrected too. */
  async correct(actor: Actor, raw: CorrectionInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'correct', raw }, async () => {
      const input = parseInput(CorrectionInput, raw);
      if (Object.keys(input.patch).length === 0) {
        throw refuse('NOTHING_CHANGED', '修正する項目を入力してください。');
      }
      const what = { changeType: 'correction', reason: input.kind, removedToo: true };
      return this.onePerson(actor, input, raw, what, async (p, trx) => {
        const after: ResidentRecord = { ...p.record, ...stripUndefined(input.patch) };
        if (JSON.stringify(after) === JSON.stringify(p.record)) {
          throw refuse('NOTHING_CHANGED', '修正前と同じ内容です。修正する項目を確認してください。');
        }
        if (input.patch.residentCode) {
          await this.checkNumbersFree(
            trx,
            actor,
            { residentCodes: [input.patch.residentCode] },
            p.record.personNo,
          );
        }
        return after;
      });
    });
  }

  /** 個人番号の変更: on the person's request (leak) or ex officio. */
  async changeMyNumber(actor: Actor, raw: MyNumberChangeInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'changeMyNumber', raw }, async () => {
      const input = parseInput(MyNumberChangeInput, raw);
      const reason: Reason =
        input.basis === 'request' ? 'myNumberChangeOnRequest' : 'myNumberChangeExOfficio';
      return this.onePerson(actor, input, raw, { changeType: 'myNumberChange', reason }, async (p, trx) => {
        if (p.record.myNumber === input.myNumber) {
          throw refuse('NOTHING_CHANGED', '現在と同じ個人番号です。新しい個人番号を入力してください。');
        }
        await this.checkNumbersFree(trx, actor, { myNumbers: [input.myNumber] }, p.record.personNo);
        return { ...p.record, myNumber: input.myNumber };
      });
    });
  }

  /** 旧氏の記載・削除 (Japanese residents). */
  async formerSurname(actor: Actor, raw: FormerSurnameInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'formerSurname', raw }, async () => {
      const input = parseInput(FormerSurnameInput, raw);
      const reason: Reason = input.action === 'enter' ? 'formerSurnameEntered' : 'formerSurnameDeleted';
      return this.onePerson(actor, input, raw, { changeType: 'formerSurname', reason }, (p) => {
        if (p.record.kind !== 'japanese') {
          throw refuse(
            'JAPANESE_ITEM_ON_FOREIGN',
            '外国人住民に旧氏は記載できません（通称をご利用ください）。',
          );
        }
        if (input.action === 'enter') {
          const formerSurname = {
            surname: input.surname,
            reading: input.reading,
            enteredOn: input.effectiveDate,
          };
          return { ...p.record, formerSurname };
        }
        if (!p.record.formerSurname) throw refuse('NO_FORMER_SURNAME', '旧氏が記載されていません。');
        const after = { ...p.record };
        delete after.formerSurname;
        return after;
      });
    });
  }

  /** 通称の記載・削除 (foreign residents); the alias history keeps every alias ever entered. */
  async alias(actor: Actor, raw: AliasInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'alias', raw }, async () => {
      const input = parseInput(AliasInput, raw);
      const reason: Reason = input.action === 'enter' ? 'aliasEntered' : 'aliasDeleted';
      return this.onePerson(actor, input, raw, { changeType: 'alias', reason }, (p) => {
        const foreign = p.record.foreign;
        if (p.record.kind !== 'foreign' || !foreign) {
          throw refuse(
            'FOREIGN_ITEM_ON_JAPANESE',
            '日本人住民に通称は記載できません（旧氏をご利用ください）。',
          );
        }
        if (input.action === 'enter') {
          if (foreign.alias) {
            throw refuse('ALIAS_EXISTS', 'すでに通称が記載されています。先に削除してから記載してください。');
          }
          const alias = {
            name: input.name,
            ...(input.reading ? { reading: input.reading } : {}),
            enteredOn: input.effectiveDate,
            enteredBy: parseLgCode(actor.lgCode),
          };
          return {
            ...p.record,
            foreign: { ...foreign, alias, aliasHistory: [...foreign.aliasHistory, alias] },
          };
        }
        const current = foreign.alias;
        if (!current) throw refuse('NO_ALIAS', '通称が記載されていません。');
        const last = foreign.aliasHistory.length - 1;
        const next = {
          ...foreign,
          // The entry being deleted is the latest one in the history: close it with today's deletion.
          aliasHistory: foreign.aliasHistory.map((a, i) =>
            i === last && !a.deletedOn
              ? { ...a, deletedOn: input.effectiveDate, deletedBy: parseLgCode(actor.lgCode) }
              : a,
          ),
        };
        delete next.alias;
        return { ...p.record, foreign: next };
      });
    });
  }

  /**
   * A change of one person's record: lock their household, then the person (the order in which a 出生 locks
   * a household and its members), build the next snapshot, commit. Only current residents, unless
   * `removedToo` (corrections of a removed record).
   */
  private async onePerson(
    actor: Actor,
    input: {
      personNo: PersonNo;
      effectiveDate: PlainDate;
      notifiedOn?: PlainDate | undefined;
      notes?: string | undefined;
    },
    raw: object,
    what: { changeType: string; reason: Reason; removedToo?: boolean },
    build: (p: Loaded, trx: repo.Trx) => ResidentRecord | Promise<ResidentRecord>,
  ): Promise<ChangeResult> {
    checkNotFuture(input.effectiveDate, this.clock.today());
    return this.db.transaction().execute(async (trx) => {
      const [locked] = await repo.lockHouseholdsOf(trx, actor.lgCode, [input.personNo]);
      const p = what.removedToo
        ? await this.load(trx, actor, input.personNo, true)
        : await this.loadCurrent(trx, actor, input.personNo);
      // Moved to another household between the two reads: that one is locked too.
      if (p.record.householdNo !== locked) await repo.lockHousehold(trx, actor.lgCode, p.record.householdNo);
      return this.commit(trx, actor, {
        changeType: what.changeType,
        reason: what.reason,
        effectiveDate: input.effectiveDate,
        notifiedOn: input.notifiedOn,
        notes: input.notes,
        payload: raw as Record<string, unknown>,
        updates: [{ before: p, after: await build(p, trx) }],
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Cancellation (異動の取消し)

  /**
   * Cancels a change by appending, for every person it touched, a snapshot that restores the state before
   * it. Refused when a later change of any of those persons builds on it (cancel that one first).
   */
  async cancel(actor: Actor, raw: CancellationInput): Promise<ChangeResult> {
    return this.run(actor, { changeType: 'cancel', raw }, async () => {
      const input = parseInput(CancellationInput, raw);
      const today = this.clock.today();
      return this.db.transaction().execute(async (trx) => {
        const change = await repo.findChange(trx, actor.lgCode, input.changeId);
        if (!change)
          throw new NotFoundError(
            'CHANGE_NOT_FOUND',
            '指定された異動が見つかりません。異動番号を確認してください。',
          );
        if (change.cancels_change_id !== null) {
          throw refuse(
            'CANNOT_CANCEL_CANCELLATION',
            '取消しの異動は取り消せません。必要な場合は改めて異動を入力してください。',
          );
        }
        if ((await repo.findCancellationOf(trx, actor.lgCode, change.change_id)) !== undefined) {
          throw refuse('ALREADY_CANCELLED', 'この異動はすでに取り消されています。');
        }
        const snapshots = await repo.snapshotsOfChange(trx, actor.lgCode, change.change_id);
        const updates: Update[] = [];
        const households = new Set<string>();
        for (const s of snapshots) {
          const current = await this.load(trx, actor, s.person_no, true);
          if (current.seq !== s.history_seq) {
            throw refuse(
              'LATER_CHANGE_DEPENDS',
              'この異動の後に同じ方の異動が記録されています。後の異動から順に取り消してください。',
              { changeId: change.change_id },
            );
          }
          const changed = recordOf(this.keys(actor), s);
          households.add(changed.householdNo);
          let restored: ResidentRecord;
          if (s.history_seq === 1) {
            restored = removed(changed, 'entryCancelled', { reason: 'entryCancelled', effectiveDate: today });
          } else {
            const prior = await repo.findSnapshot(trx, actor.lgCode, s.person_no, s.history_seq - 1);
            restored = recordOf(this.keys(actor), prior!);
          }
          households.add(restored.householdNo);
          updates.push({ before: current, after: restored });
        }
        for (const h of [...households].sort()) await repo.lockHousehold(trx, actor.lgCode, h);
        const kind = change.change_kind as ChangeKind;
        const reason: Reason =
          kind === 'entry'
            ? 'entryCancelled'
            : kind === 'removal'
              ? 'removalCancelled'
              : 'correctionCancelled';
        return this.commit(trx, actor, {
          changeType: 'cancellation',
          reason,
          effectiveDate: today,
          notifiedOn: input.notifiedOn,
          notes: input.notes,
          payload: {
            changeId: change.change_id,
            cancelledType: change.change_type,
            cancelledReason: change.reason,
          },
          cancelsChangeId: change.change_id,
          updates,
        });
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Shared steps

  private async commit(trx: repo.Trx, actor: Actor, d: ChangeDraft): Promise<ChangeResult> {
    const state = this.state(trx);
    this.transactions.delete(trx);
    const parsed = d.updates.map((u) => {
      const after = ResidentRecord.parse(u.after);
      checkKindItems(after);
      return { before: u.before, after };
    });
    await this.checkHouseholds(trx, actor, parsed, new Set(d.headRequired ?? []), state);
    const now = this.clock.now();
    const processedOn = this.clock.today();
    // Households the change sets up are not in the register yet, so no suppression can name them.
    const suppression: SuppressionCheck = {
      process: 'change',
      personNos: parsed.filter((r) => r.before).map((r) => r.after.personNo),
      householdNos: [
        ...new Set(parsed.flatMap((r) => [r.before?.record.householdNo, r.after.householdNo])),
      ].filter((h): h is HouseholdNo => h !== undefined && !state.numbers.households.includes(h)),
      confirmed: (d.payload as { confirmSuppression?: unknown }).confirmSuppression === true,
    };
    // One statement: the edit locks, (unless a dry run) the change row and, when they are taken in this
    // transaction, the numbers the change gives. Persons entering the register hold no edit lock: they are
    // not on it yet.
    const counts = { households: state.numbers.households.length, persons: state.numbers.persons.length };
    const numbersHere = !this.dryRun && !this.numbering;
    const claim: repo.ChangeClaim = {
      lgCode: actor.lgCode,
      staffId: actor.staffId,
      now,
      personNos: parsed.filter((r) => r.before).map((r) => r.after.personNo),
      numbers: numbersHere ? counts : { households: 0, persons: 0 },
      change: this.dryRun
        ? undefined
        : {
            lgCode: actor.lgCode,
            changeType: d.changeType,
            changeKind: kindOf(d.reason),
            reason: d.reason,
            effectiveDate: d.effectiveDate,
            processedOn,
            notifiedOn: d.notifiedOn,
            staffId: actor.staffId,
            terminalId: actor.terminalId,
            notes: d.notes,
            cancelsChangeId: d.cancelsChangeId,
            // The request as entered, but no 個人番号: the snapshots this change writes keep it, encrypted.
            payload: withoutMyNumbers(d.payload) as Record<string, unknown>,
            flows: flowCountsOf(
              { kind: kindOf(d.reason), effectiveDate: d.effectiveDate },
              parsed.map(({ before, after }) => ({
                historySeq: (before?.seq ?? 0) + 1,
                status: after.status,
                kind: after.kind,
                addressSetOn: after.addressSetOn,
              })),
            ),
          },
    };
    // The suppression look-up and the claim go together; the suppression is judged first, and a refusal
    // rolls the claim back with the rest (in the embedded database the numbers stepped too).
    const lookUp = d.skipSuppression
      ? undefined
      : suppressionLookUp(trx, actor.lgCode, suppression, now, processedOn);
    const claimStatement = repo.claimChangeQuery(trx, claim);
    const [inForce, claimRows] = lookUp?.statement
      ? await pipelined(trx, [lookUp.statement, claimStatement] as const)
      : [[], (await claimStatement.execute(trx)).rows];
    const confirmedSuppressions = lookUp ? lookUp.judge(inForce) : [];
    const claimed = repo.claimedOf(claimRows[0]!, claim);
    if (claimed.lockedByOthers) {
      throw refuse(
        'LOCKED_BY_OTHER',
        '他の職員がこの方の記録を編集中です。編集が終わるまでは参照のみ可能です。時間をおいて再度お試しください。',
      );
    }
    // A dry run shows the numbers the counters would give next and steps none of them.
    const serials = this.dryRun
      ? await repo.peekNumbers(trx, actor.lgCode, counts)
      : this.numbering
        ? await repo.takeNumbers(this.numbering, actor.lgCode, counts)
        : claimed;
    const given = state.numbers.give({
      persons: serials.personSerials,
      households: serials.householdSerials,
    });
    const records = parsed.map((r) => ({ before: r.before, after: given.inRecord(r.after) }));
    const personNos = records.map((r) => r.after.personNo);
    // A dry run stops here, every check passed: throwing rolls back all it did.
    if (this.dryRun) throw new DryRunRollback(d, records);
    const keys = this.keys(actor);
    const changeId = claimed.changeId!;
    const snapshots: repo.SnapshotWrite[] = [];
    const persons: ChangeResult['persons'] = [];
    const messages: Array<{ topic: string; key: string; payload: Record<string, unknown> }> = [];
    for (const { before, after } of records) {
      const historySeq = (before?.seq ?? 0) + 1;
      const { kanaSort, ...columns } = searchColumnsOf(after);
      const search = storedSearchColumns(columns, before && searchColumnsOf(before.record));
      snapshots.push({
        lgCode: actor.lgCode,
        personNo: after.personNo,
        historySeq,
        changeId,
        status: after.status,
        kind: after.kind,
        householdNo: after.householdNo,
        householdOrder: after.householdOrder,
        relationship: after.relationship,
        removedOn: after.removal?.effectiveDate ?? null,
        plannedMoveOut: after.status === 'current' ? (after.plannedMoveOut?.plannedDate ?? null) : null,
        kanaSort,
        numbersNew: numbersChanged(before?.record, after),
        search: { ...search, ...myNumberColumns(keys, after.personNo, historySeq, after.myNumber) },
        record: storedRecord(after),
      });
      persons.push({ personNo: after.personNo, historySeq });
      const header = {
        changeId,
        changeType: d.changeType,
        reason: d.reason,
        kind: kindOf(d.reason),
        effectiveDate: d.effectiveDate,
        personNo: after.personNo,
        historySeq,
      };
      messages.push({ topic: 'registry.changed', key: after.personNo, payload: header });
      if (identityChanged(before?.record, after)) {
        messages.push({
          topic: 'juki.identityInfo',
          key: after.personNo,
          payload: {
            ...header,
            identity: {
              ...identityOf(after),
              ...(after.myNumber
                ? {
                    myNumberEnc: keys
                      .encrypt(outboxMyNumberBinding(changeId, after.personNo, historySeq), after.myNumber)
                      .toString('base64'),
                  }
                : {}),
            },
          },
        });
      }
    }
    await repo.writeChange(trx, {
      lgCode: actor.lgCode,
      newHouseholdNos: given.householdNos,
      snapshots,
      messages,
    });
    await logAccess(trx, this.audit, actor, {
      function: 'change',
      outcome: 'success',
      targetPersons: personNos,
      // A change that enters or alters a 個人番号 handles it; others never read it.
      myNumberAccessed: records.some(
        (r) => r.after.myNumber !== undefined && r.after.myNumber !== r.before?.record.myNumber,
      ),
      details: {
        changeId,
        changeType: d.changeType,
        reason: d.reason,
        ...(confirmedSuppressions.length > 0
          ? { confirmedSuppressions: confirmedSuppressions.map((h) => h.suppressionId) }
          : {}),
      },
    });
    return {
      changeId,
      changeType: d.changeType,
      reason: d.reason,
      kind: kindOf(d.reason),
      effectiveDate: d.effectiveDate,
      persons,
      householdNos: [...new Set(records.map((r) => r.after.householdNo))],
    };
  }

  /**
   * At most one head per household; exactly one where the change sets up or re-sets a household. Members
   * already read under the household lock in this transaction are not read again.
   */
  private async checkHouseholds(
    trx: repo.Trx,
    actor: Actor,
    records: ReadonlyArray<{ after: ResidentRecord }>,
    headRequired: ReadonlySet<string>,
    state: TransactionState,
  ): Promise<void> {
    const touched = new Set<string>([...records.map((r) => r.after.householdNo), ...headRequired]);
    const updated = new Map(records.map((r) => [r.after.personNo as string, r.after]));
    for (const householdNo of touched) {
      const known = state.members.get(householdNo);
      const members = known
        ? known.filter((m) => !updated.has(m.record.personNo)).map((m) => m.record)
        : (await repo.findHouseholdMembers(trx, actor.lgCode, householdNo))
            .filter((row) => !updated.has(row.person_no))
            .map((row) => recordOf(this.keys(actor), row));
      for (const r of updated.values()) {
        if (r.householdNo === householdNo && r.status === 'current') members.push(r);
      }
      // A household the change sets up has no number yet to show.
      const details = state.numbers.households.some((h) => h === householdNo) ? {} : { householdNo };
      const heads = members.filter((m) => isHead(m.relationship)).length;
      if (heads > 1) {
        throw refuse(
          'TWO_HEADS',
          '一つの世帯に世帯主が二人になります。世帯主は一人だけ指定してください。',
          details,
        );
      }
      if (headRequired.has(householdNo) && members.length > 0 && heads === 0) {
        throw refuse(
          'HEAD_REQUIRED',
          '世帯主が指定されていません。世帯員のうち一人の続柄を「世帯主」にしてください。',
          details,
        );
      }
    }
  }

  private newRecord(
    personNo: PersonNo,
    m: z.output<typeof NewPersonInput>,
    at: {
      householdNo: HouseholdNo;
      householdOrder: number;
      residentSince: PlainDate;
      address: Address;
      addressSetOn: PlainDate;
      notifiedOn: PlainDate;
      previousAddress: PreviousAddress | undefined;
    },
  ): ResidentRecord {
    return {
      personNo,
      kind: m.kind,
      status: 'current',
      ...(m.name ? { name: m.name } : {}),
      reading: m.reading,
      birthDate: m.birthDate,
      sex: m.sex,
      householdNo: at.householdNo,
      householdOrder: at.householdOrder,
      relationship: m.relationship,
      ...(m.honseki ? { honseki: m.honseki } : {}),
      residentSince: at.residentSince,
      address: at.address,
      addressSetOn: at.addressSetOn,
      notifiedOn: at.notifiedOn,
      ...(at.previousAddress ? { previousAddress: at.previousAddress } : {}),
      ...(m.myNumber ? { myNumber: m.myNumber } : {}),
      ...(m.residentCode ? { residentCode: m.residentCode } : {}),
      benefits: m.benefits,
      ...(m.foreign ? { foreign: m.foreign } : {}),
      ...(m.remarks ? { remarks: m.remarks } : {}),
    };
  }

  /** A household the change sets up: provisional number, no members yet (written by `commit`). */
  private newHousehold(trx: repo.Trx): HouseholdNo {
    const state = this.state(trx);
    const householdNo = state.numbers.household();
    state.members.set(householdNo, []);
    return householdNo;
  }

  private async targetHousehold(
    trx: repo.Trx,
    actor: Actor,
    target: z.output<typeof ExOfficioEntryInput>['household'],
  ): Promise<{ householdNo: HouseholdNo; order: number; isNew: boolean }> {
    if (target.mode === 'new') return { householdNo: this.newHousehold(trx), order: 1, isNew: true };
    if (!(await repo.lockHousehold(trx, actor.lgCode, target.householdNo))) throw householdNotFound();
    const members = (await repo.findHouseholdMembers(trx, actor.lgCode, target.householdNo)).map((r) => ({
      seq: r.history_seq,
      record: recordOf(this.keys(actor), r),
    }));
    this.state(trx).members.set(target.householdNo, members);
    if (members.length === 0) {
      throw refuse(
        'HOUSEHOLD_EMPTY',
        'この世帯には現在の世帯員がいません。新しい世帯として入力してください。',
      );
    }
    const order = (await repo.maxHouseholdOrder(trx, actor.lgCode, target.householdNo)) + 1;
    return { householdNo: target.householdNo, order, isNew: false };
  }

  private resetRelationships(
    members: readonly Loaded[],
    relationships: ReadonlyArray<{ personNo: PersonNo; relationship: Relationship }>,
  ): Update[] {
    const rel = relationshipMap(
      relationships,
      members.map((m) => m.record.personNo),
      { partial: true },
    );
    return members
      .filter((m) => rel.has(m.record.personNo) && rel.get(m.record.personNo) !== m.record.relationship)
      .map((m) => ({ before: m, after: { ...m.record, relationship: rel.get(m.record.personNo)! } }));
  }

  private checkDistinctNumbers(members: ReadonlyArray<z.output<typeof NewPersonInput>>): void {
    const seen = new Set<string>();
    for (const m of members) {
      for (const n of [m.myNumber, m.residentCode]) {
        if (!n) continue;
        if (seen.has(n))
          throw refuse('DUPLICATE_MEMBER', '同じ個人番号または住民票コードの方が二回入力されています。');
        seen.add(n);
      }
    }
  }

  /** A person already on the register cannot enter again: that would put one person in two households. */
  private async checkNotRegistered(
    trx: repo.Trx,
    actor: Actor,
    members: ReadonlyArray<z.output<typeof NewPersonInput>>,
  ): Promise<void> {
    await this.checkNumbersFree(trx, actor, {
      myNumbers: members.flatMap((m) => (m.myNumber ? [m.myNumber] : [])),
      residentCodes: members.flatMap((m) => (m.residentCode ? [m.residentCode] : [])),
    });
  }

  private async checkNumbersFree(
    trx: repo.Trx,
    actor: Actor,
    numbers: { myNumbers?: readonly string[]; residentCodes?: readonly string[] },
    exceptPersonNo?: string,
  ): Promise<void> {
    const holder = await repo.findCurrentHolder(
      trx,
      actor.lgCode,
      {
        myNumberIndexes: (numbers.myNumbers ?? []).map((n) => this.keys(actor).blindIndex(n)),
        residentCodes: numbers.residentCodes ?? [],
      },
      exceptPersonNo,
    );
    if (holder) {
      throw refuse(
        'ALREADY_REGISTERED',
        '同じ個人番号または住民票コードの方がすでに住民として記録されています。二重の記載はできません。世帯の変更は世帯変更で入力してください。',
      );
    }
  }

  private async load(trx: repo.Trx, actor: Actor, personNo: string, forUpdate: boolean): Promise<Loaded> {
    const row = await repo.findResident(trx, actor.lgCode, personNo, { forUpdate });
    if (!row) throw personNotFound();
    return { seq: row.history_seq, record: recordOf(this.keys(actor), row) };
  }

  private async loadCurrent(trx: repo.Trx, actor: Actor, personNo: string): Promise<Loaded> {
    return this.current(await this.load(trx, actor, personNo, true));
  }

  private current(p: Loaded): Loaded {
    const personNo = p.record.personNo;
    if (p.record.status !== 'current') {
      throw refuse(
        'ALREADY_REMOVED',
        `この方はすでに消除されています（${STATUS_LABEL[p.record.status]}）。消除された方にこの異動は入力できません。`,
        { personNo },
      );
    }
    return p;
  }

  /** The current members of a household, locked; call it with the household itself locked. */
  private async loadMembers(trx: repo.Trx, actor: Actor, householdNo: string): Promise<Loaded[]> {
    const rows = await repo.findHouseholdMembers(trx, actor.lgCode, householdNo, { forUpdate: true });
    return this.lockedMembers(trx, actor, householdNo, rows);
  }

  /** A household's current members, read for update under its lock, kept for the rest of the transaction. */
  private lockedMembers(
    trx: repo.Trx,
    actor: Actor,
    householdNo: string,
    rows: readonly repo.ResidentRow[],
  ): Loaded[] {
    const members = rows.map((r) => this.lockedRow(trx, actor, r));
    this.state(trx).members.set(householdNo, members);
    return members;
  }

  /** A row read for update, mapped to the domain once per transaction. */
  private lockedRow(trx: repo.Trx, actor: Actor, row: repo.ResidentRow): Loaded {
    const locked = this.state(trx).locked;
    const key = `${row.person_no}:${row.history_seq}`;
    let loaded = locked.get(key);
    if (!loaded) {
      loaded = { seq: row.history_seq, record: recordOf(this.keys(actor), row) };
      locked.set(key, loaded);
    }
    return loaded;
  }

  /**
   * Persons leaving their household (moving within or out), in the order given, with their household and
   * all its current members, everything locked. The household is locked first and its members read after,
   * in two statements: the members' read must see a member added while the household lock was awaited.
   * When a person is not a current member of that one household (not found, removed, persons of several
   * households, or moved between the two reads), the persons are read and locked in one statement, then
   * their household: this gives the precise refusal, or the household they are in now. `joining`: the
   * household the movers join, locked in the same statement as theirs, in household order.
   */
  private async loadMovers(
    trx: repo.Trx,
    actor: Actor,
    personNos: readonly string[],
    joining: readonly string[] = [],
  ): Promise<{ movers: Loaded[]; householdNo: HouseholdNo; members: Loaded[] }> {
    // The households locked and then their members read: two statements, sent together.
    const [locked, memberRows] =
      personNos.length === 0
        ? [[], []]
        : await pipelined(trx, [
            repo.lockHouseholdsOfQuery(trx, actor.lgCode, personNos, joining),
            repo.membersOfHouseholdsOfQuery(trx, actor.lgCode, personNos),
          ] as const);
    const households = locked.map((h) => h.household_no).filter((h) => !joining.includes(h));
    if (households.length === 1) {
      const householdNo = households[0] as HouseholdNo;
      const members = this.lockedMembers(
        trx,
        actor,
        householdNo,
        memberRows.filter((r) => r.household_no === householdNo),
      );
      const byPerson = new Map(members.map((m) => [m.record.personNo as string, m]));
      const movers = personNos.flatMap((p) => byPerson.get(p) ?? []);
      if (movers.length === personNos.length) return { movers, householdNo, members };
    }
    const movers = await this.loadCurrentAll(trx, actor, personNos);
    const householdNo = singleHousehold(movers);
    await repo.lockHousehold(trx, actor.lgCode, householdNo);
    return { movers, householdNo, members: await this.loadMembers(trx, actor, householdNo) };
  }

  /** Current persons, locked (one statement); refused as `loadCurrent` refuses, in the order given. */
  private async loadCurrentAll(trx: repo.Trx, actor: Actor, personNos: readonly string[]): Promise<Loaded[]> {
    const rows = new Map(
      (await repo.findResidentsForUpdate(trx, actor.lgCode, personNos)).map((r) => [r.person_no, r]),
    );
    return personNos.map((personNo) => {
      const row = rows.get(personNo);
      if (!row) throw personNotFound();
      return this.current(this.lockedRow(trx, actor, row));
    });
  }
}

function removed(
  r: ResidentRecord,
  status: Exclude<ResidentStatus, 'current'>,
  removal: ResidentRecord['removal'] & object,
): ResidentRecord {
  return { ...r, status, removal: stripUndefined(removal) };
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function checkDistinct(personNos: readonly string[]): void {
  if (new Set(personNos).size !== personNos.length) {
    throw refuse('DUPLICATE_MEMBER', '同じ方が二回指定されています。');
  }
}

function singleHousehold(persons: readonly Loaded[]): HouseholdNo {
  const households = new Set(persons.map((p) => p.record.householdNo));
  if (households.size !== 1) {
    throw refuse(
      'MIXED_HOUSEHOLDS',
      '異なる世帯の方を一度に処理することはできません。世帯ごとに入力してください。',
    );
  }
  return persons[0]!.record.householdNo;
}

function relationshipMap(
  list: ReadonlyArray<{ personNo: PersonNo; relationship: Relationship }>,
  allowed: readonly string[],
  options: { partial?: boolean } = {},
): Map<string, Relationship> {
  const map = new Map<string, Relationship>();
  for (const { personNo, relationship } of list) {
    if (!allowed.includes(personNo)) throw notAMember();
    if (map.has(personNo)) throw refuse('DUPLICATE_MEMBER', '同じ方の続柄が二回入力されています。');
    map.set(personNo, relationship);
  }
  if (!options.partial && allowed.some((p) => !map.has(p))) {
    throw refuse('RELATIONSHIP_REQUIRED', '対象の方全員について続柄を入力してください。');
  }
  return map;
}

function personNotFound(): NotFoundError {
  return new NotFoundError(
    'PERSON_NOT_FOUND',
    '指定された宛名番号の方が見つかりません。宛名番号を確認してください。',
  );
}

function householdNotFound(): NotFoundError {
  return new NotFoundError(
    'HOUSEHOLD_NOT_FOUND',
    '指定された世帯番号の世帯が見つかりません。世帯番号を確認してください。',
  );
}

function notAMember(): DomainError {
  return refuse(
    'NOT_A_MEMBER',
    '指定された方はこの世帯の世帯員ではありません。宛名番号と世帯番号を確認してください。',
  );
}
