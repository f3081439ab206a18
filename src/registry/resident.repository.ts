/**
 * Queries of the register. Rows stay in this module: the services map them to domain types.
 * Functions that must run inside a transaction take it as their first parameter.
 */
import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type RawBuilder,
  type SqlBool,
  type Transaction,
} from 'kysely';
import { textArray, unreadReply, type Database, type Db } from '../db/index.js';
import { isKana } from '../shared/index.js';

export type Trx = Transaction<Database>;
type Executor = Db | Trx;

export interface ResidentRow {
  person_no: string;
  history_seq: number;
  status: string;
  household_no: string | null;
  household_order: number | null;
  record: Record<string, unknown>;
  /** The snapshot's 個人番号, encrypted (from resident_history; src/registry/my-number.ts). */
  my_number_enc: Buffer | null;
}

export interface SnapshotRow {
  person_no: string;
  history_seq: number;
  change_id: number;
  record: Record<string, unknown>;
  my_number_enc: Buffer | null;
}

export interface ChangeRow {
  change_id: number;
  change_type: string;
  change_kind: string;
  reason: string;
  effective_date: string;
  processed_on: string;
  notified_on: string | null;
  staff_id: string;
  terminal_id: string;
  notes: string | null;
  cancels_change_id: number | null;
  payload: Record<string, unknown>;
  created_at: Date;
}

export async function ensureMunicipality(db: Executor, lgCode: string, name: string): Promise<void> {
  await db
    .insertInto('municipality')
    .values({ lg_code: lgCode, name })
    .onConflict((oc) => oc.column('lg_code').doNothing())
    .execute();
}

export async function findMunicipalityName(db: Executor, lgCode: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('municipality')
    .select('name')
    .where('lg_code', '=', lgCode)
    .executeTakeFirst();
  return row?.name;
}

/** Locks a household for the rest of the transaction; false if it does not exist. */
export async function lockHousehold(trx: Trx, lgCode: string, householdNo: string): Promise<boolean> {
  const row = await trx
    .selectFrom('household')
    .select('household_no')
    .where('lg_code', '=', lgCode)
    .where('household_no', '=', householdNo)
    .forUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Locks the households these persons are in now (their records read without a lock), and `also` (a
 * household they join), all in household order, and returns the numbers of those that exist. The persons
 * themselves are not locked: the caller reads the members next, in a statement of its own, and checks the
 * persons are among them.
 */
export async function lockHouseholdsOf(
  trx: Trx,
  lgCode: string,
  personNos: readonly string[],
  also: readonly string[] = [],
): Promise<string[]> {
  if (personNos.length === 0) return [];
  return (await lockHouseholdsOfQuery(trx, lgCode, personNos, also).execute()).map((r) => r.household_no);
}

/** The statement of `lockHouseholdsOf` (for `pipelined`): rows of `household_no`, in household order. */
export function lockHouseholdsOfQuery(
  trx: Trx,
  lgCode: string,
  personNos: readonly string[],
  also: readonly string[] = [],
) {
  return (
    trx
      .selectFrom('household')
      .select('household_no')
      .where('lg_code', '=', lgCode)
      // One IN over a union: an OR of the two made the planner filter every household of the municipality.
      .where('household_no', 'in', (eb) => {
        const theirs = eb
          .selectFrom('resident')
          .select('household_no')
          .where('lg_code', '=', lgCode)
          .where('person_no', 'in', [...personNos]);
        return also.length === 0
          ? theirs
          : theirs.unionAll(
              eb
                .selectFrom('household as j')
                .select('j.household_no')
                .where('j.lg_code', '=', lgCode)
                .where('j.household_no', 'in', [...also]),
            );
      })
      .orderBy('household_no')
      .forUpdate()
  );
}

/**
 * The current members of the households these persons are in now, locked, in household order and then as
 * `findHouseholdMembers` orders them. Sent right after `lockHouseholdsOfQuery` (`pipelined`), it runs
 * once those households are locked, and its snapshot, taken then, sees a member added meanwhile. Should a
 * mover have changed household between the two, it also locks the members of the new one, whose household
 * is not locked: the caller then takes its slower path (persons, then their household), which already
 * locks persons before their household in that race.
 */
export function membersOfHouseholdsOfQuery(trx: Trx, lgCode: string, personNos: readonly string[]) {
  return trx
    .selectFrom('resident')
    .select(residentColumns)
    .select(myNumberEncOf('resident'))
    .where('lg_code', '=', lgCode)
    .where('household_no', 'in', (eb) =>
      eb
        .selectFrom('resident as m')
        .select('m.household_no')
        .where('m.lg_code', '=', lgCode)
        .where('m.person_no', 'in', [...personNos]),
    )
    .where('status', '=', 'current')
    .orderBy('household_no')
    .orderBy('household_order')
    .orderBy('person_no')
    .forUpdate();
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

const residentColumns = [
  'person_no',
  'history_seq',
  'status',
  'household_no',
  'household_order',
  'record',
] as const;

/**
 * The encrypted 個人番号 of the snapshot a current-record row points at, live or archived (a subquery:
 * FOR UPDATE stays on the row). `table` is the name or alias the outer query reads the row from.
 */
function myNumberEncOf(table: 'resident' | 'resident_all' | 'r') {
  return sql<Buffer | null>`(SELECT h.my_number_enc FROM resident_history_all h
    WHERE h.lg_code = ${sql.ref(`${table}.lg_code`)} AND h.person_no = ${sql.ref(`${table}.person_no`)}
      AND h.history_seq = ${sql.ref(`${table}.history_seq`)})`.as('my_number_enc');
}

/**
 * The person's current-record row. Changes read the live table (with `forUpdate`); reads that must reach
 * 除票 moved to the removed-records archive (inquiry, certificates) pass `includeArchive`.
 */
export async function findResident(
  db: Executor,
  lgCode: string,
  personNo: string,
  options: { forUpdate?: boolean; includeArchive?: boolean } = {},
): Promise<ResidentRow | undefined> {
  const table = options.includeArchive && !options.forUpdate ? 'resident_all' : 'resident';
  let q = db
    .selectFrom(table)
    .select(residentColumns)
    .select(myNumberEncOf(table))
    .where('lg_code', '=', lgCode)
    .where('person_no', '=', personNo);
  if (options.forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Current-record rows of several persons of the live table, locked for update (in 宛名番号 order). */
export async function findResidentsForUpdate(
  trx: Trx,
  lgCode: string,
  personNos: readonly string[],
): Promise<ResidentRow[]> {
  if (personNos.length === 0) return [];
  return trx
    .selectFrom('resident')
    .select(residentColumns)
    .select(myNumberEncOf('resident'))
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', [...personNos])
    .orderBy('person_no')
    .forUpdate()
    .execute();
}

/** Current members of a household (removed persons excluded), in member order. */
export async function findHouseholdMembers(
  db: Executor,
  lgCode: string,
  householdNo: string,
  options: { forUpdate?: boolean } = {},
): Promise<ResidentRow[]> {
  let q = db
    .selectFrom('resident')
    .select(residentColumns)
    .select(myNumberEncOf('resident'))
    .where('lg_code', '=', lgCode)
    .where('household_no', '=', householdNo)
    .where('status', '=', 'current')
    .orderBy('household_order')
    .orderBy('person_no');
  if (options.forUpdate) q = q.forUpdate();
  return q.execute();
}

/** Everyone who ever belonged to the household, current or removed (archived 除票 too). */
export async function findHouseholdAllMembers(
  db: Executor,
  lgCode: string,
  householdNo: string,
): Promise<ResidentRow[]> {
  return db
    .selectFrom('resident_all')
    .select(residentColumns)
    .select(myNumberEncOf('resident_all'))
    .where('lg_code', '=', lgCode)
    .where('household_no', '=', householdNo)
    .orderBy('household_order')
    .orderBy('person_no')
    .execute();
}

export async function maxHouseholdOrder(trx: Trx, lgCode: string, householdNo: string): Promise<number> {
  const row = await trx
    .selectFrom('resident')
    .select((eb) => eb.fn.max('household_order').as('m'))
    .where('lg_code', '=', lgCode)
    .where('household_no', '=', householdNo)
    .executeTakeFirst();
  return Number(row?.m ?? 0);
}

/**
 * A current resident holding any of these 個人番号 (by their blind index) or 住民票コード, other than
 * `exceptPersonNo`.
 */
export async function findCurrentHolder(
  db: Executor,
  lgCode: string,
  numbers: { myNumberIndexes?: readonly Buffer[]; residentCodes?: readonly string[] },
  exceptPersonNo?: string,
): Promise<string | undefined> {
  const myNumberIndexes = numbers.myNumberIndexes ?? [];
  const residentCodes = numbers.residentCodes ?? [];
  if (myNumberIndexes.length === 0 && residentCodes.length === 0) return undefined;
  // Through the indexes of the history's number columns, which hold the snapshots where a number changed
  // (migration 0018): the persons that ever had either number, then whether the current snapshot of one
  // who is a current resident holds it. (Matching resident.record->>'residentCode' instead read every
  // current record: a sequential scan of the register for each person entered.)
  const held = (h: string) =>
    sql.join(
      [
        ...myNumberIndexes.map((i) => sql`${sql.ref(`${h}.my_number_index`)} = ${i}`),
        ...residentCodes.map((c) => sql`${sql.ref(`${h}.resident_code`)} = ${c}`),
      ],
      sql` OR `,
    );
  let q = db
    .selectFrom('resident as r')
    .innerJoin('resident_history as c', (j) =>
      j
        .onRef('c.lg_code', '=', 'r.lg_code')
        .onRef('c.person_no', '=', 'r.person_no')
        .onRef('c.history_seq', '=', 'r.history_seq'),
    )
    .select('r.person_no')
    .where('r.lg_code', '=', lgCode)
    .where('r.status', '=', 'current')
    .where(sql<boolean>`(${held('c')})`)
    .where(
      sql<boolean>`r.person_no IN (SELECT h.person_no FROM resident_history h
        WHERE h.lg_code = ${lgCode} AND h.numbers_new AND (${held('h')}))`,
    );
  if (exceptPersonNo) q = q.where('r.person_no', '<>', exceptPersonNo);
  const row = await q.executeTakeFirst();
  return row?.person_no;
}

export interface NewChangeRow {
  lgCode: string;
  changeType: string;
  changeKind: 'entry' | 'removal' | 'correction';
  reason: string;
  effectiveDate: string;
  processedOn: string;
  notifiedOn: string | undefined;
  staffId: string;
  terminalId: string;
  notes: string | undefined;
  cancelsChangeId: number | undefined;
  payload: Record<string, unknown>;
  /** The persons it counts in the statistics' flows (statistics.ts flowCountsOf). */
  flows: { japanese: number; foreign: number };
}

function changeValues(c: NewChangeRow) {
  return {
    lg_code: c.lgCode,
    change_type: c.changeType,
    change_kind: c.changeKind,
    reason: c.reason,
    effective_date: c.effectiveDate,
    processed_on: c.processedOn,
    notified_on: c.notifiedOn ?? null,
    staff_id: c.staffId,
    terminal_id: c.terminalId,
    notes: c.notes ?? null,
    cancels_change_id: c.cancelsChangeId ?? null,
    payload: JSON.stringify(c.payload),
    flow_japanese: c.flows.japanese,
    flow_foreign: c.flows.foreign,
  };
}

/** How many new 世帯番号 and 宛名番号 a change gives. */
export interface NumberCounts {
  households: number;
  persons: number;
}

/** The serials given, in order: a counter's numbers without their check digit. */
export interface Serials {
  householdSerials: number[];
  personSerials: number[];
}

export interface ChangeClaim {
  lgCode: string;
  staffId: string;
  now: Date;
  /** Persons already on the register that the change touches (persons it enters can hold no edit lock). */
  personNos: readonly string[];
  /**
   * Numbers to take from the counters in this statement, in the change's transaction (see `claimChange`);
   * none when the caller takes them elsewhere (`takeNumbers`) or not at all.
   */
  numbers: NumberCounts;
  /** The change row; undefined in a dry run, which writes nothing. */
  change: NewChangeRow | undefined;
}

export interface ClaimedChange extends Serials {
  /** Another staff member holds an edit lock on one of the persons: the caller refuses (and rolls back). */
  lockedByOthers: boolean;
  changeId: number | undefined;
}

/** The counter kinds to step, household first, then person, as every numbering steps them. */
function countsToStep(n: NumberCounts): Array<readonly ['household' | 'person', number]> {
  return (
    [
      ['household', n.households],
      ['person', n.persons],
    ] as const
  ).filter(([, k]) => k > 0);
}

/** The upsert that steps the counters by `counts`, returning each kind's new last value. */
function stepCounters(db: Executor, lgCode: string, counts: NumberCounts) {
  return db
    .insertInto('number_counter')
    .values(countsToStep(counts).map(([kind, n]) => ({ lg_code: lgCode, kind, last_value: n })))
    .onConflict((oc) =>
      oc
        .columns(['lg_code', 'kind'])
        .doUpdateSet({ last_value: sql<number>`number_counter.last_value + excluded.last_value` }),
    )
    .returning(['kind', 'last_value']);
}

/** The `n` serials up to and including `lastValue`. */
function serialsUpTo(lastValue: number | null | undefined, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Number(lastValue ?? 0) - n + 1 + i);
}

/**
 * Steps the counters in a statement of its own on `db` and returns the serials given. On the change
 * service's autonomous connection (`DatabaseHandle.autonomous`) the statement commits at once, so the
 * counter row is locked for that statement alone and a municipality's changes are not serialised through
 * their commits; a change that then fails leaves its numbers unused (a gap, which the 宛名番号 allows).
 */
export async function takeNumbers(db: Executor, lgCode: string, counts: NumberCounts): Promise<Serials> {
  if (countsToStep(counts).length === 0) return { householdSerials: [], personSerials: [] };
  const rows = await stepCounters(db, lgCode, counts).execute();
  const last = (kind: string) => rows.find((r) => r.kind === kind)?.last_value;
  return {
    householdSerials: serialsUpTo(last('household'), counts.households),
    personSerials: serialsUpTo(last('person'), counts.persons),
  };
}

/** The serials the counters would give next, stepping and locking nothing (a dry run's numbers). */
export async function peekNumbers(db: Executor, lgCode: string, counts: NumberCounts): Promise<Serials> {
  if (countsToStep(counts).length === 0) return { householdSerials: [], personSerials: [] };
  const rows = await db
    .selectFrom('number_counter')
    .select(['kind', 'last_value'])
    .where('lg_code', '=', lgCode)
    .execute();
  const next = (kind: string, n: number) =>
    serialsUpTo(Number(rows.find((r) => r.kind === kind)?.last_value ?? 0) + n, n);
  return {
    householdSerials: next('household', counts.households),
    personSerials: next('person', counts.persons),
  };
}

export interface ClaimRow {
  locked: boolean;
  last_household: number | null;
  last_person: number | null;
  change_id: number | null;
}

/**
 * The first writes of a change, in one statement: checks the persons' edit locks held by others and ends
 * the staff member's own, steps the 世帯番号 and 宛名番号 counters when asked to (`numbers`: then gap-free,
 * as the counter row stays locked until commit, which serialises a municipality's numbering; taken here,
 * at the end of the checks, it is held for the writes alone) and inserts the change row. Its one row is
 * read by `claimedOf`; the change service sends it together with the suppression look-up (`pipelined`).
 */
export function claimChangeQuery(trx: Trx, c: ChangeClaim): RawBuilder<ClaimRow> {
  const ctes = [];
  if (c.personNos.length > 0) {
    ctes.push(
      sql`released AS (${trx
        .deleteFrom('edit_lock')
        .where('lg_code', '=', c.lgCode)
        .where('person_no', 'in', [...c.personNos])
        .where('staff_id', '=', c.staffId)})`,
    );
  }
  const counts = countsToStep(c.numbers);
  if (counts.length > 0) ctes.push(sql`numbers AS (${stepCounters(trx, c.lgCode, c.numbers)})`);
  if (c.change) {
    ctes.push(
      sql`inserted AS (${trx.insertInto('change').values(changeValues(c.change)).returning('change_id')})`,
    );
  }
  const locked =
    c.personNos.length > 0
      ? sql<boolean>`EXISTS (${trx
          .selectFrom('edit_lock')
          .select('person_no')
          .where('lg_code', '=', c.lgCode)
          .where('person_no', 'in', [...c.personNos])
          .where('staff_id', '<>', c.staffId)
          .where('expires_at', '>', c.now)})`
      : sql<boolean>`false`;
  const last = (kind: 'household' | 'person') =>
    counts.some(([k]) => k === kind)
      ? sql<number>`(SELECT last_value FROM numbers WHERE kind = ${kind})`
      : sql<null>`NULL::bigint`;
  return sql<ClaimRow>`${ctes.length > 0 ? sql`WITH ${sql.join(ctes)} ` : sql``}SELECT ${locked} AS locked,
      ${last('household')} AS last_household, ${last('person')} AS last_person,
      ${c.change ? sql`(SELECT change_id FROM inserted)` : sql`NULL::bigint`} AS change_id`;
}

export function claimedOf(row: ClaimRow, c: ChangeClaim): ClaimedChange {
  return {
    lockedByOthers: row.locked,
    householdSerials: serialsUpTo(row.last_household, c.numbers.households),
    personSerials: serialsUpTo(row.last_person, c.numbers.persons),
    changeId: row.change_id === null ? undefined : Number(row.change_id),
  };
}

export interface SnapshotWrite {
  lgCode: string;
  personNo: string;
  historySeq: number;
  changeId: number;
  status: string;
  kind: 'japanese' | 'foreign';
  householdNo: string;
  householdOrder: number;
  relationship: string;
  removedOn: string | null;
  plannedMoveOut: string | null;
  kanaSort: string;
  /** The person's first snapshot, or its 個人番号 or 住民票コード changed (migration 0018). */
  numbersNew: boolean;
  /** Null where a value is the same as in the person's previous snapshot (`storedSearchColumns`). */
  search: {
    nameNorm: string | null;
    kanaNorm: string | null;
    otherNamesNorm: string | null;
    addressNorm: string | null;
    birthSort: string | null;
    sex: string;
    /** Blind index and ciphertext of the 個人番号 (my-number.ts); never the number in clear. */
    myNumberIndex: Buffer | null;
    myNumberEnc: Buffer | null;
    residentCode: string | null;
    residenceCardNo: string | null;
  };
  record: Record<string, unknown>;
}

/**
 * The writes of a change after its change row, in one statement: the households it sets up, each person's
 * new snapshot appended to the history with the current-record index pointed at it, and the outbox
 * messages. (Foreign keys are checked at the end of the statement, so the household rows come first only
 * in meaning.)
 */
export async function writeChange(
  trx: Trx,
  w: {
    lgCode: string;
    newHouseholdNos: readonly string[];
    snapshots: readonly SnapshotWrite[];
    messages: ReadonlyArray<{ topic: string; key: string; payload: Record<string, unknown> }>;
  },
): Promise<void> {
  const ctes = [];
  if (w.newHouseholdNos.length > 0) {
    ctes.push(
      sql`households AS (${trx
        .insertInto('household')
        .values(w.newHouseholdNos.map((h) => ({ lg_code: w.lgCode, household_no: h })))})`,
    );
  }
  if (w.snapshots.length > 0) {
    const records = w.snapshots.map((s) => {
      if ('myNumber' in s.record)
        throw new Error('a record is stored without its 個人番号 (see my-number.ts)');
      return JSON.stringify(s.record);
    });
    ctes.push(
      sql`history AS (${trx.insertInto('resident_history').values(
        w.snapshots.map((s, i) => ({
          lg_code: s.lgCode,
          person_no: s.personNo,
          history_seq: s.historySeq,
          change_id: s.changeId,
          status: s.status,
          household_no: s.householdNo,
          name_norm: s.search.nameNorm,
          kana_norm: s.search.kanaNorm,
          other_names_norm: s.search.otherNamesNorm,
          address_norm: s.search.addressNorm,
          birth_sort: s.search.birthSort,
          sex: s.search.sex,
          my_number_index: s.search.myNumberIndex,
          my_number_enc: s.search.myNumberEnc,
          resident_code: s.search.residentCode,
          residence_card_no: s.search.residenceCardNo,
          numbers_new: s.numbersNew,
          record: records[i]!,
        })),
      )})`,
      sql`current_records AS (${trx
        .insertInto('resident')
        .values(
          w.snapshots.map((s, i) => ({
            lg_code: s.lgCode,
            person_no: s.personNo,
            history_seq: s.historySeq,
            kind: s.kind,
            status: s.status,
            household_no: s.householdNo,
            household_order: s.householdOrder,
            relationship: s.relationship,
            removed_on: s.removedOn,
            planned_move_out: s.plannedMoveOut,
            kana_sort: s.kanaSort,
            record: records[i]!,
            updated_at: sql<Date>`now()`,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['lg_code', 'person_no']).doUpdateSet((eb) => ({
            history_seq: eb.ref('excluded.history_seq'),
            kind: eb.ref('excluded.kind'),
            status: eb.ref('excluded.status'),
            household_no: eb.ref('excluded.household_no'),
            household_order: eb.ref('excluded.household_order'),
            relationship: eb.ref('excluded.relationship'),
            removed_on: eb.ref('excluded.removed_on'),
            planned_move_out: eb.ref('excluded.planned_move_out'),
            kana_sort: eb.ref('excluded.kana_sort'),
            record: eb.ref('excluded.record'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )})`,
    );
  }
  if (w.messages.length > 0) {
    ctes.push(
      sql`messages AS (${trx.insertInto('outbox').values(
        w.messages.map((m) => ({
          lg_code: w.lgCode,
          topic: m.topic,
          aggregate_key: m.key,
          payload: JSON.stringify(m.payload),
        })),
      )})`,
    );
  }
  if (ctes.length === 0) return;
  // Its reply is not read: on PostgreSQL it travels with the transaction's next statement (the log entry).
  await unreadReply(sql`WITH ${sql.join(ctes)} SELECT 1`).execute(trx);
}

const changeColumns = [
  'change_id',
  'change_type',
  'change_kind',
  'reason',
  'effective_date',
  'processed_on',
  'notified_on',
  'staff_id',
  'terminal_id',
  'notes',
  'cancels_change_id',
  'payload',
  'created_at',
] as const;

export async function findChange(
  db: Executor,
  lgCode: string,
  changeId: number,
): Promise<ChangeRow | undefined> {
  return db
    .selectFrom('change')
    .select(changeColumns)
    .where('lg_code', '=', lgCode)
    .where('change_id', '=', changeId)
    .executeTakeFirst();
}

export async function findCancellationOf(
  db: Executor,
  lgCode: string,
  changeId: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('change')
    .select('change_id')
    .where('lg_code', '=', lgCode)
    .where('cancels_change_id', '=', changeId)
    .executeTakeFirst();
  return row?.change_id;
}

/** The snapshots a change wrote, one per person it touched. */
export async function snapshotsOfChange(
  db: Executor,
  lgCode: string,
  changeId: number,
): Promise<SnapshotRow[]> {
  return db
    .selectFrom('resident_history')
    .select(['person_no', 'history_seq', 'change_id', 'record', 'my_number_enc'])
    .where('lg_code', '=', lgCode)
    .where('change_id', '=', changeId)
    .orderBy('person_no')
    .execute();
}

export async function findSnapshot(
  db: Executor,
  lgCode: string,
  personNo: string,
  historySeq: number,
): Promise<SnapshotRow | undefined> {
  return db
    .selectFrom('resident_history')
    .select(['person_no', 'history_seq', 'change_id', 'record', 'my_number_enc'])
    .where('lg_code', '=', lgCode)
    .where('person_no', '=', personNo)
    .where('history_seq', '=', historySeq)
    .executeTakeFirst();
}

export interface HistoryRow extends SnapshotRow, Omit<ChangeRow, 'change_id'> {
  recorded_at: Date;
  cancelled_by: number | null;
}

/** A person's whole history (live or archived), oldest first, with the change that wrote each snapshot. */
export async function listHistory(db: Executor, lgCode: string, personNo: string): Promise<HistoryRow[]> {
  return db
    .selectFrom('resident_history_all as h')
    .innerJoin('change as c', 'c.change_id', 'h.change_id')
    .select([
      'h.person_no',
      'h.history_seq',
      'h.change_id',
      'h.record',
      'h.my_number_enc',
      'h.recorded_at',
      'c.change_type',
      'c.change_kind',
      'c.reason',
      'c.effective_date',
      'c.processed_on',
      'c.notified_on',
      'c.staff_id',
      'c.terminal_id',
      'c.notes',
      'c.cancels_change_id',
      'c.payload',
      'c.created_at',
    ])
    .select((eb) =>
      eb
        .selectFrom('change as x')
        .select('x.change_id')
        .whereRef('x.cancels_change_id', '=', 'c.change_id')
        .as('cancelled_by'),
    )
    .where('h.lg_code', '=', lgCode)
    .where('h.person_no', '=', personNo)
    .orderBy('h.history_seq')
    .execute();
}

/** Persons due to be removed by a planned move-out on or before `asOf`. */
export async function findDueMoveOuts(db: Executor, lgCode: string, asOf: string): Promise<string[]> {
  const rows = await db
    .selectFrom('resident')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('status', '=', 'current')
    .where('planned_move_out', '<=', asOf)
    .orderBy('person_no')
    .execute();
  return rows.map((r) => r.person_no);
}

export async function countResidents(db: Executor, lgCode: string): Promise<number> {
  const row = await db
    .selectFrom('resident')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lg_code', '=', lgCode)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface SearchFilter {
  nameNorm?: string | undefined;
  addressNorm?: string | undefined;
  /** 'prefix' (前方一致, the default) or 'contains' (部分一致: anywhere in the text, slower at scale). */
  match?: TextMatch | undefined;
  /** The municipality's name, normalised: an address typed without it is also tried with it in front. */
  cityNorm?: string | undefined;
  addressCode?: string | undefined;
  birthFrom?: string | undefined;
  birthTo?: string | undefined;
  sex?: string | undefined;
  personNo?: string | undefined;
  householdNo?: string | undefined;
  /** Blind index of the 個人番号 searched for. */
  myNumberIndex?: Buffer | undefined;
  residentCode?: string | undefined;
  residenceCardNo?: string | undefined;
  /** 'current' (on the register), 'removed' (除票 only) or 'all'. */
  status: 'current' | 'removed' | 'all';
  /** Overrides MAX_TEXT_MATCHES (tests). */
  maxTextMatches?: number;
  limit: number;
  offset: number;
}

export type TextMatch = 'prefix' | 'contains';

const likeEscaped = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
function likeContains(s: string): string {
  return `%${likeEscaped(s)}%`;
}
function likePrefix(s: string): string {
  return `${likeEscaped(s)}%`;
}
/** A later part of a '|'-joined column (a foreign resident's Latin name, the second alias…) starting so. */
function likeLaterPart(s: string): string {
  return `%|${likeEscaped(s)}%`;
}

/**
 * Texts starting with `prefix`, as the range [prefix, prefix with its last character stepped) in byte order
 * (the text_pattern_ops of migration 0014's btrees). Written as a range rather than LIKE 'x%' so that only
 * the btree can answer it: for a LIKE the planner may pick the column's trigram index instead, which must
 * fetch and recheck every match from the heap (20–30 ms at 4M where the range reads 3,000 entries in 2).
 * UTF-8 byte order is code-point order, so the range holds exactly the texts with that start.
 */
function startsWith(
  column: 'h.kana_norm' | 'h.name_norm' | 'h.address_norm',
  prefix: string,
): HistoryCondition {
  const range = prefixRange(column, prefix);
  // No successor for U+10FFFF: LIKE (correct, maybe slower) for that one case.
  return range ? () => range : (eb) => eb(column, 'like', likePrefix(prefix));
}

/** `startsWith` as the range alone; undefined where the last character has no successor (U+10FFFF). */
function prefixRange(column: string, prefix: string): RawBuilder<SqlBool> | undefined {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last >= 0x10ffff) return undefined;
  const next = last + 1 === 0xd800 ? 0xe000 : last + 1; // surrogates are not characters
  const upper = `${chars.join('')}${String.fromCodePoint(next)}`;
  return sql<SqlBool>`(${sql.ref(column)} ~>=~ ${prefix} AND ${sql.ref(column)} ~<~ ${upper})`;
}

/** Snapshots a name or address alone may match before a search is refused as too broad. */
export const MAX_TEXT_MATCHES = 3000;

type HistoryScope = Database & { h: Database['resident_history_all'] };
type HistoryCondition = (eb: ExpressionBuilder<HistoryScope, 'h'>) => Expression<SqlBool>;

/**
 * How a name or an address is matched, as separate conditions: each is probed on its own with a limit, so
 * that the index it uses stops early (an OR of them would read every match of each before the limit).
 *
 * 前方一致 (prefix): the reading, the name (kanji, or a Latin name alone), either of them read from the
 * start by a btree range (migration 0014); a foreign resident's Latin name after the kanji one and the other
 * names (alias, former surname) by their trigram indexes, whose lists hold only the persons that have such
 * names. Latin letters only are looked for in name_norm's later part: its trigram lists of kanji or kana
 * would be every name of the city. An address matches from its start, or from after the municipality's
 * name when typed without it (中央区本町… for 架空市中央区本町…).
 *
 * 部分一致 (contains): the text anywhere, by the trigram indexes. One or two characters still match the
 * start only: a trigram index cannot narrow a string that short found anywhere, and at millions of persons
 * it hits a large share of the register.
 */
function textConditions(
  kind: 'name' | 'address',
  norm: string,
  match: TextMatch,
  cityNorm: string | undefined,
): HistoryCondition[] {
  const contains = match === 'contains' && [...norm].length >= 3;
  if (kind === 'address') {
    if (contains) return [(eb) => eb('h.address_norm', 'like', likeContains(norm))];
    const starts = [norm];
    if (cityNorm && !norm.startsWith(cityNorm)) starts.push(`${cityNorm}${norm}`);
    return starts.map((s) => startsWith('h.address_norm', s));
  }
  if (contains) {
    const p = likeContains(norm);
    return [
      (eb) =>
        eb.or([
          eb('h.name_norm', 'like', p),
          eb('h.kana_norm', 'like', p),
          eb('h.other_names_norm', 'like', p),
        ]),
    ];
  }
  const p = likePrefix(norm);
  const later = likeLaterPart(norm);
  return [
    startsWith('h.kana_norm', norm),
    startsWith('h.name_norm', norm),
    (eb) =>
      eb.or([
        eb('h.other_names_norm', 'like', p),
        eb('h.other_names_norm', 'like', later),
        ...(/^[a-z0-9 .'-]+$/.test(norm) ? [eb('h.name_norm', 'like', later)] : []),
      ]),
  ];
}

/** One condition matching any of them (a criterion combined by the planner with others). */
function anyOf(conditions: readonly HistoryCondition[]): HistoryCondition {
  return (eb) => eb.or(conditions.map((c) => c(eb)));
}

/**
 * Search candidates. A criterion matches if the person ever had the value (any snapshot): past names,
 * past addresses and past numbers are found too; status is the current one.
 */
export async function searchResidents(
  db: Executor,
  lgCode: string,
  f: SearchFilter,
): Promise<{ total: number; rows: Array<ResidentRow & { kana_sort: string }>; tooMany?: true }> {
  // Live and archived 除票 alike: one search covers both stores (views of migration 0010). The criteria
  // other than the texts are kept as filters, applied to each part of the listing.
  const persons = () => db.selectFrom('resident_all as r').where('r.lg_code', '=', lgCode);
  type Persons = ReturnType<typeof persons>;
  const filters: Array<(q: Persons) => Persons> = [];
  const filtered = () => filters.reduce((q, f) => f(q), persons());
  const where = (f: (q: Persons) => Persons) => filters.push(f);
  const everHad = (build: (h: ReturnType<typeof historyOf>) => ReturnType<typeof historyOf>) =>
    where((q) => q.where('r.person_no', 'in', build(historyOf())));
  const historyOf = () =>
    db.selectFrom('resident_history_all as h').select('h.person_no').where('h.lg_code', '=', lgCode);

  // A name and an address are each searched first on their own, for at most `most` snapshots per
  // condition (an index range or a trigram scan each). Within that, the persons found are the candidates
  // and the rest of the search is a handful of primary-key look-ups. Beyond it, a name or address alone (a
  // common surname in a city of millions) is refused as too broad before an exact count and the kana order
  // of every match are paid for. With another criterion (birth date, a number), the persons that one
  // allows come first and the text is checked within them.
  const narrowed =
    f.birthFrom ??
    f.birthTo ??
    f.myNumberIndex ??
    f.residentCode ??
    f.residenceCardNo ??
    f.personNo ??
    f.householdNo;
  const match = f.match ?? 'prefix';
  const texts = [
    f.nameNorm ? textConditions('name', f.nameNorm, match, undefined) : undefined,
    f.addressNorm ? textConditions('address', f.addressNorm, match, f.cityNorm) : undefined,
  ].filter((t): t is HistoryCondition[] => t !== undefined);
  const most = f.maxTextMatches ?? MAX_TEXT_MATCHES;
  const probe = async (conditions: readonly HistoryCondition[]): Promise<string[] | undefined> => {
    const found = new Set<string>();
    for (const condition of conditions) {
      const matches = await historyOf()
        .where(condition)
        .limit(most + 1)
        .execute();
      if (matches.length > most) return undefined;
      for (const m of matches) found.add(m.person_no);
    }
    return found.size > most ? undefined : [...found];
  };
  /** Persons of the candidates that ever had a text (name or address). */
  const within = async (candidates: readonly string[], conditions: readonly HistoryCondition[]) =>
    candidates.length === 0
      ? []
      : [
          ...new Set(
            (await historyOf().where(personIn('h', candidates)).where(anyOf(conditions)).execute()).map(
              (m) => m.person_no,
            ),
          ),
        ];
  // The persons every text criterion probed so far allows (undefined: none probed within the limit), and
  // the text criteria still to apply.
  let candidates: string[] | undefined;
  let pending: HistoryCondition[][] = [];
  /** The candidates are the name's matches, nothing else probed first. */
  let nameFirst = false;
  for (const conditions of texts) {
    if (candidates) pending.push(conditions);
    else {
      candidates = await probe(conditions);
      if (!candidates) pending.push(conditions);
      else nameFirst = Boolean(f.nameNorm) && conditions === texts[0];
    }
  }
  if (!candidates && pending.length > 0 && !narrowed) return { total: 0, rows: [], tooMany: true };

  if (f.addressCode) {
    const code = f.addressCode;
    everHad((h) => h.where(sql<string>`h.record->'address'->>'code'`, 'like', `${code}%`));
  }
  if (f.birthFrom || f.birthTo) {
    // One snapshot within both bounds: a range scan of resident_history_birth (two separate criteria each
    // matched half the register and left the planner hashing every current record).
    everHad((h) => {
      let b = h;
      if (f.birthFrom) b = b.where('h.birth_sort', '>=', f.birthFrom);
      if (f.birthTo) b = b.where('h.birth_sort', '<=', f.birthTo);
      return b;
    });
  }
  // Only the snapshots where a number changed are in the numbers' indexes (migration 0018); the flag is
  // written as is, so that a plan for any parameters still proves the indexes' predicate.
  if (f.myNumberIndex) {
    everHad((h) => h.where('h.my_number_index', '=', f.myNumberIndex!).where(sql<boolean>`h.numbers_new`));
  }
  if (f.residentCode) {
    everHad((h) => h.where('h.resident_code', '=', f.residentCode!).where(sql<boolean>`h.numbers_new`));
  }
  if (f.residenceCardNo) everHad((h) => h.where('h.residence_card_no', '=', f.residenceCardNo!));
  if (f.householdNo) everHad((h) => h.where('h.household_no', '=', f.householdNo!));
  const { personNo, sex } = f;
  if (personNo) where((q) => q.where('r.person_no', '=', personNo));
  if (sex) where((q) => q.where(sql<string>`r.record->>'sex'`, '=', sex));
  if (f.status === 'current') where((q) => q.where('r.status', '=', 'current'));
  if (f.status === 'removed') where((q) => q.where('r.status', '<>', 'current'));

  if (!candidates && pending.length > 0) {
    // Every text matched too many on its own: the other criteria first, then the texts within them.
    const allowed = await filtered()
      .select('r.person_no')
      .limit(most + 1)
      .execute();
    if (allowed.length <= most) candidates = allowed.map((r) => r.person_no);
    else {
      // Broad on every side (a birth year and a common name): the planner combines them.
      for (const conditions of pending) everHad((h) => h.where(anyOf(conditions)));
      pending = [];
    }
  }
  // The persons whose current reading starts with the name typed are all among the name's matches (the
  // reading is in the history too), and read so from an index range of the current records, in kana order
  // (migration 0022), instead of one primary-key leaf each. Only for a name typed in kana (a name in kanji
  // or letters is no reading's start), and not where a later text narrowed the matches.
  const reading =
    nameFirst && pending.length === 0 && match === 'prefix' && f.nameNorm && isKana(f.nameNorm)
      ? f.nameNorm
      : undefined;
  if (candidates) {
    for (const conditions of pending) candidates = await within(candidates, conditions);
    if (candidates.length === 0) return { total: 0, rows: [] };
  }
  const readingRange = (column: string) => (reading ? prefixRange(column, reading) : undefined);
  const [byReading, othersByReading] = [readingRange('r.kana_sort'), readingRange('k.kana_sort')];
  const listedColumns = ['r.person_no', 'r.kana_sort'] as const;
  const matches = !candidates
    ? filtered().select(listedColumns)
    : byReading && othersByReading
      ? filtered()
          .where(byReading)
          .select(listedColumns)
          .unionAll(
            // The others (found by a kanji or Latin name, an alias or a past reading): each by its key.
            filtered()
              .where(
                sql<boolean>`r.person_no = ANY(ARRAY(SELECT unnest(${textArray(candidates, 'bpchar')}) EXCEPT ${db
                  .selectFrom('resident_all as k')
                  .select('k.person_no')
                  .where('k.lg_code', '=', lgCode)
                  .where(othersByReading)}))`,
              )
              .select(listedColumns),
          )
      : filtered().where(personIn('r', candidates)).select(listedColumns);

  // The page and the count of all matches in one pass over them (count(*) OVER () before the LIMIT): the
  // persons in kana order, read from the indexes alone where no criterion needs the record (the primary
  // key includes kana_sort and status, migration 0021). A page past the end has no row to carry the
  // count, so it is counted on its own.
  const listing = db.selectFrom(matches.as('m'));
  const listed = await listing
    .select(['m.person_no', sql<string>`count(*) OVER ()`.as('full_count')])
    // Code-point order: the same on every server whatever its locale (hiragana sort in 五十音 order).
    .orderBy(sql`m.kana_sort COLLATE "C"`)
    .orderBy('m.person_no')
    .limit(f.limit)
    .offset(f.offset)
    .execute();
  const total =
    listed.length > 0
      ? Number(listed[0]!.full_count)
      : f.offset === 0
        ? 0
        : Number(
            (await listing.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n,
          );
  // Then the records of the page's persons only, shown in the listing's order. Within the transaction a
  // person listed may meanwhile have been purged (150 years after removal): such a row is left out.
  const pageNos = listed.map((r) => r.person_no);
  const records =
    pageNos.length === 0
      ? []
      : await db
          .selectFrom('resident_all as r')
          .where('r.lg_code', '=', lgCode)
          .where(personIn('r', pageNos))
          .select([
            'r.person_no',
            'r.history_seq',
            'r.status',
            'r.household_no',
            'r.household_order',
            'r.record',
            'r.kana_sort',
          ])
          .select(myNumberEncOf('r'))
          .execute();
  const byPerson = new Map(records.map((r) => [r.person_no, r]));
  return { total, rows: pageNos.flatMap((no) => byPerson.get(no) ?? []) };
}

/** The rows of the given persons (宛名番号): the list as one array parameter, however long. */
function personIn(table: 'r' | 'h', personNos: readonly string[]) {
  return sql<boolean>`${sql.ref(`${table}.person_no`)} = ANY(${textArray(personNos, 'bpchar')})`;
}

/** Takes (or renews) the edit lock on a person; returns the holder if another staff member holds it. */
export async function acquireLock(
  trx: Trx,
  lock: {
    lgCode: string;
    personNo: string;
    staffId: string;
    sessionId: string | undefined;
    now: Date;
    expiresAt: Date;
  },
): Promise<{ staffId: string; expiresAt: Date } | undefined> {
  const existing = await trx
    .selectFrom('edit_lock')
    .select(['staff_id', 'expires_at'])
    .where('lg_code', '=', lock.lgCode)
    .where('person_no', '=', lock.personNo)
    .forUpdate()
    .executeTakeFirst();
  if (existing && existing.staff_id !== lock.staffId && existing.expires_at > lock.now) {
    return { staffId: existing.staff_id, expiresAt: existing.expires_at };
  }
  const values = {
    staff_id: lock.staffId,
    session_id: lock.sessionId ?? null,
    acquired_at: lock.now,
    expires_at: lock.expiresAt,
  };
  await trx
    .insertInto('edit_lock')
    .values({ lg_code: lock.lgCode, person_no: lock.personNo, ...values })
    .onConflict((oc) => oc.columns(['lg_code', 'person_no']).doUpdateSet(values))
    .execute();
  return undefined;
}

export async function findLock(
  db: Executor,
  lgCode: string,
  personNo: string,
  now: Date,
): Promise<{ staffId: string; expiresAt: Date } | undefined> {
  const row = await db
    .selectFrom('edit_lock')
    .select(['staff_id', 'expires_at'])
    .where('lg_code', '=', lgCode)
    .where('person_no', '=', personNo)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row ? { staffId: row.staff_id, expiresAt: row.expires_at } : undefined;
}

export async function anyLockedByOthers(
  trx: Trx,
  lgCode: string,
  personNos: readonly string[],
  staffId: string,
  now: Date,
): Promise<boolean> {
  if (personNos.length === 0) return false;
  const row = await trx
    .selectFrom('edit_lock')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', personNos)
    .where('staff_id', '<>', staffId)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

/** Ends a staff member's locks on these persons (commit or cancel). */
export async function releaseLocks(
  trx: Trx | Db,
  lgCode: string,
  personNos: readonly string[],
  staffId: string,
): Promise<number> {
  if (personNos.length === 0) return 0;
  const result = await trx
    .deleteFrom('edit_lock')
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', personNos)
    .where('staff_id', '=', staffId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
