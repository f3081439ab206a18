/**
 * Queries of the access log, its chain head, checkpoints and alerts. Rows stay in this module: the
 * services map them to domain types. Functions that must run inside a transaction take it first.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/index.js';
import { GENESIS_HASH, LANE_SPAN, MAX_LANES, laneOf, laneRange } from './access-log.js';

export type Trx = Transaction<Database>;
export type Executor = Kysely<Database>;

export interface AccessLogRow {
  lg_code: string;
  seq: number;
  occurred_at: Date;
  staff_id: string | null;
  terminal_id: string;
  function: string;
  purpose: string | null;
  target_persons: string[];
  my_number_accessed: boolean;
  my_number_printed: boolean;
  outcome: 'success' | 'refused' | 'failed';
  criteria: Record<string, unknown> | null;
  details: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

export interface ChainHeadRow {
  lane: number;
  last_seq: number;
  last_hash: string;
}

/**
 * Locks every lane head of the municipality for the rest of the transaction, in lane order (as a seal
 * must: then no append slips in between). An append holds at most one lane and waits for one only while
 * it holds none, so the two cannot deadlock.
 */
export async function lockChainHeads(trx: Trx, lgCode: string): Promise<ChainHeadRow[]> {
  return chainHeads(trx, lgCode, true);
}

/** Every lane head of the municipality, in lane order. */
export async function findChainHeads(db: Executor, lgCode: string): Promise<ChainHeadRow[]> {
  return chainHeads(db, lgCode, false);
}

async function chainHeads(db: Executor, lgCode: string, forUpdate: boolean): Promise<ChainHeadRow[]> {
  const q = db
    .selectFrom('audit_chain_head')
    .select(['lane', 'last_seq', 'last_hash'])
    .where('lg_code', '=', lgCode)
    .orderBy('lane');
  const rows = await (forUpdate ? q.forUpdate() : q).execute();
  return rows.map((r) => ({ lane: Number(r.lane), last_seq: Number(r.last_seq), last_hash: r.last_hash }));
}

/** An entry to append: what the caller decides; the chain decides its seq and hashes. */
export type NewEntryRow = Omit<AccessLogRow, 'seq' | 'prev_hash' | 'hash'>;

/** What the chain gave an appended entry. */
export type AppendedEntry = Pick<AccessLogRow, 'seq' | 'prev_hash' | 'hash'>;

/**
 * Gives the municipality its MAX_LANES lanes at the genesis hash unless it has them (its first entry's
 * step). All at once, so no transaction ever opens a lane another may be waiting to open; an idle lane
 * costs a row. Inserted in the caller's transaction: another's first entry waits for it to commit.
 */
export async function openLanes(trx: Trx, lgCode: string): Promise<void> {
  await sql`
    INSERT INTO audit_chain_head (lg_code, lane, last_seq, last_hash)
    SELECT ${lgCode}::text, g.n, g.n * ${LANE_SPAN}::bigint, ${GENESIS_HASH}::text
      FROM generate_series(0, ${MAX_LANES - 1}::int) AS g(n)
    ON CONFLICT (lg_code, lane) DO NOTHING`.execute(trx);
}

/**
 * Appends an entry to one lane of its municipality's chain in one statement: locks the lane's head, takes
 * its next seq, hashes the entry onto the previous hash (`chainHashParts` gives the canonical text around
 * the seq; the database puts the seq in), inserts it and advances the head. `'free'`: the lowest lane no
 * other transaction holds (`SKIP LOCKED`), undefined when every lane is held (or there is none yet:
 * `openLanes`); a lane number: that lane, waiting for it if another transaction holds it.
 * The head stays locked until commit: with one statement it is held for that statement and the commit
 * alone.
 */
export async function appendEntry(
  trx: Trx,
  row: NewEntryRow,
  parts: { beforeSeq: string; afterSeq: string },
  lane: 'free' | number,
): Promise<(AppendedEntry & { lane: number }) | undefined> {
  // Explicit casts: the values sit in a SELECT list, and both drivers then send the same text.
  const targets = `{${row.target_persons.map(arrayElement).join(',')}}`;
  const json = (v: Record<string, unknown> | null) => (v === null ? null : JSON.stringify(v));
  const head =
    lane === 'free'
      ? sql`SELECT lane, last_seq, last_hash FROM audit_chain_head WHERE lg_code = ${row.lg_code}
             ORDER BY lane LIMIT 1 FOR UPDATE SKIP LOCKED`
      : sql`SELECT lane, last_seq, last_hash FROM audit_chain_head
             WHERE lg_code = ${row.lg_code} AND lane = ${lane}::int FOR UPDATE`;
  const { rows } = await sql<AppendedEntry & { lane: number }>`
    WITH head AS (${head}), hashed AS (
      SELECT lane, last_seq + 1 AS seq, last_hash AS prev_hash,
             encode(sha256(convert_to(last_hash || ${parts.beforeSeq}::text || (last_seq + 1)::text ||
               ${parts.afterSeq}::text, 'UTF8')), 'hex') AS hash
        FROM head
    ), entry AS (
      INSERT INTO access_log (lg_code, seq, occurred_at, staff_id, terminal_id, function, purpose,
                              target_persons, my_number_accessed, my_number_printed, outcome, criteria,
                              details, prev_hash, hash)
      SELECT ${row.lg_code}::text, h.seq, ${row.occurred_at}::timestamptz, ${row.staff_id}::text, ${row.terminal_id}::text,
             ${row.function}::text, ${row.purpose}::text, ${targets}::text[], ${row.my_number_accessed}::boolean,
             ${row.my_number_printed}::boolean, ${row.outcome}::text, ${json(row.criteria)}::jsonb,
             ${json(row.details)}::jsonb, h.prev_hash, h.hash
        FROM hashed h
      RETURNING seq, prev_hash, hash
    ), moved AS (
      UPDATE audit_chain_head SET last_seq = entry.seq, last_hash = entry.hash
        FROM entry, hashed
       WHERE audit_chain_head.lg_code = ${row.lg_code} AND audit_chain_head.lane = hashed.lane
    )
    SELECT hashed.lane, entry.seq, entry.prev_hash, entry.hash FROM entry, hashed`.execute(trx);
  const r = rows[0];
  return r === undefined ? undefined : { ...r, lane: Number(r.lane) };
}

/** One element of a PostgreSQL array literal, quoted. */
function arrayElement(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Municipalities that have a log, a chain head or a checkpoint. */
export async function listLoggedMunicipalities(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ lg_code: string }>`
    SELECT lg_code FROM audit_chain_head
    UNION SELECT DISTINCT lg_code FROM access_log
    UNION SELECT DISTINCT lg_code FROM audit_checkpoint
    ORDER BY 1`.execute(db);
  return rows.map((r) => r.lg_code);
}

/** A batch of entries in seq order after `afterSeq`, in the lane of `afterSeq`, for verification. */
export async function entriesAfter(
  db: Executor,
  lgCode: string,
  afterSeq: number,
  limit: number,
): Promise<AccessLogRow[]> {
  return db
    .selectFrom('access_log')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('seq', '>', afterSeq)
    .where('seq', '<=', laneRange(laneOf(afterSeq)).last)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/**
 * The lanes of the municipality that were ever used: with entries, a head past the genesis, or a checkpoint
 * (any of them may have been tampered away).
 */
export async function listLanes(db: Executor, lgCode: string): Promise<number[]> {
  const { rows } = await sql<{ lane: number }>`
    SELECT lane FROM audit_chain_head WHERE lg_code = ${lgCode} AND last_seq > lane * ${LANE_SPAN}::bigint
    UNION SELECT DISTINCT (seq / ${LANE_SPAN}::bigint)::int FROM access_log WHERE lg_code = ${lgCode}
    UNION SELECT DISTINCT (upto_seq / ${LANE_SPAN}::bigint)::int FROM audit_checkpoint WHERE lg_code = ${lgCode}
    ORDER BY 1`.execute(db);
  return rows.map((r) => Number(r.lane));
}

export interface EntryFilter {
  staffId?: string | undefined;
  personNo?: string | undefined;
  function?: string | undefined;
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export async function searchEntries(
  db: Executor,
  lgCode: string,
  filter: EntryFilter,
  page: { offset: number; limit: number },
): Promise<{ rows: AccessLogRow[]; total: number }> {
  let q = db.selectFrom('access_log').where('lg_code', '=', lgCode);
  if (filter.staffId !== undefined) q = q.where('staff_id', '=', filter.staffId);
  if (filter.function !== undefined) q = q.where('function', '=', filter.function);
  if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome as AccessLogRow['outcome']);
  if (filter.from !== undefined) q = q.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('occurred_at', '<', filter.to);
  if (filter.personNo !== undefined) {
    // `@>` uses the GIN index on target_persons.
    q = q.where(sql<boolean>`target_persons @> ARRAY[${filter.personNo}]::text[]`);
  }
  const [rows, count] = await Promise.all([
    // Newest first across the lanes: by time, then within a lane by seq.
    q
      .selectAll()
      .orderBy('occurred_at', 'desc')
      .orderBy('seq', 'desc')
      .offset(page.offset)
      .limit(page.limit)
      .execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

/**
 * Takes the lock of one subject (staff id or terminal) of the municipality's monitoring until the end of
 * the transaction: the rules that look back at a subject's entries run for one entry of it at a time.
 */
export async function lockSubject(trx: Executor, lgCode: string, subject: string): Promise<void> {
  const key = `jumin.audit|${lgCode}|${subject}`;
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}::text, 0))`.execute(trx);
}

/** Entries of one subject (staff id or terminal) and functions in [from, to). */
export async function countEntries(
  db: Executor,
  lgCode: string,
  subject: { staffId: string } | { terminalId: string; unknownStaff: true },
  functions: readonly string[],
  from: Date,
  to: Date,
): Promise<number> {
  let q = db
    .selectFrom('access_log')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('lg_code', '=', lgCode)
    .where('function', 'in', functions)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to);
  q =
    'staffId' in subject
      ? q.where('staff_id', '=', subject.staffId)
      : q.where('staff_id', 'is', null).where('terminal_id', '=', subject.terminalId);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A staff member's searches in [from, to): how many, and in how many distinct clock hours. */
export async function searchActivity(
  db: Executor,
  lgCode: string,
  staffId: string,
  from: Date,
  to: Date,
): Promise<{ searches: number; activeHours: number }> {
  const { rows } = await sql<{ searches: number; active_hours: number }>`
    SELECT count(*)::int AS searches,
           count(DISTINCT date_trunc('hour', occurred_at))::int AS active_hours
      FROM access_log
     WHERE lg_code = ${lgCode} AND staff_id = ${staffId} AND function = 'search'
       AND occurred_at >= ${from} AND occurred_at < ${to}`.execute(db);
  const r = rows[0];
  return { searches: r?.searches ?? 0, activeHours: r?.active_hours ?? 0 };
}

export interface ActivityRow {
  seq: number;
  staff_id: string;
  function: string;
  occurred_at: Date;
}

/** Staff entries of the given functions in [from, to), by staff member then time. */
export async function staffActivity(
  db: Executor,
  lgCode: string,
  functions: readonly string[],
  from: Date,
  to: Date,
): Promise<ActivityRow[]> {
  const rows = await db
    .selectFrom('access_log')
    .select(['seq', 'staff_id', 'function', 'occurred_at'])
    .where('lg_code', '=', lgCode)
    .where('function', 'in', functions)
    .where('staff_id', 'is not', null)
    .where('occurred_at', '>=', from)
    .where('occurred_at', '<', to)
    .orderBy('staff_id')
    .orderBy('occurred_at')
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, staff_id: r.staff_id ?? '' }));
}

// ── checkpoints ────────────────────────────────────────────────────────────────────────────────────────

export interface CheckpointRow {
  lg_code: string;
  checkpoint_id: number;
  upto_seq: number;
  chain_hash: string;
  created_at: Date;
  key_id: string;
  signature: string;
}

export async function insertCheckpoint(
  trx: Trx,
  row: Omit<CheckpointRow, 'checkpoint_id'>,
): Promise<CheckpointRow> {
  return trx.insertInto('audit_checkpoint').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The latest checkpoint of one lane. */
export async function latestCheckpoint(
  db: Executor,
  lgCode: string,
  lane: number,
): Promise<CheckpointRow | undefined> {
  const { first, last } = laneRange(lane);
  return db
    .selectFrom('audit_checkpoint')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('upto_seq', '>', first)
    .where('upto_seq', '<=', last)
    .orderBy('upto_seq', 'desc')
    .orderBy('checkpoint_id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The checkpoints of one lane, oldest first. */
export async function listCheckpoints(db: Executor, lgCode: string, lane: number): Promise<CheckpointRow[]> {
  const { first, last } = laneRange(lane);
  return db
    .selectFrom('audit_checkpoint')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('upto_seq', '>', first)
    .where('upto_seq', '<=', last)
    .orderBy('upto_seq')
    .orderBy('checkpoint_id')
    .execute();
}

// ── alerts ─────────────────────────────────────────────────────────────────────────────────────────────

export interface AlertRow {
  lg_code: string;
  alert_id: number;
  rule: string;
  staff_id: string | null;
  subject: string;
  dedupe_key: string;
  raised_at: Date;
  entry_seq: number | null;
  details: Record<string, unknown>;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
  acknowledgement_note: string | null;
}

export type NewAlertRow = Omit<
  AlertRow,
  'alert_id' | 'acknowledged_by' | 'acknowledged_at' | 'acknowledgement_note'
>;

/** Raises an alert unless one with the same rule and dedupe key exists; returns whether it was raised. */
export async function insertAlert(db: Executor, row: NewAlertRow): Promise<boolean> {
  const result = await db
    .insertInto('audit_alert')
    .values({ ...row, details: JSON.stringify(row.details) })
    .onConflict((oc) => oc.columns(['lg_code', 'rule', 'dedupe_key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * The alerts of this rule about this subject raised at or after `since`, each with the function and the
 * target persons of the access-log entry that raised it (alerts themselves hold no person numbers).
 */
export async function alertEntriesSince(
  db: Executor,
  lgCode: string,
  rule: string,
  subject: string,
  since: Date,
): Promise<Array<{ function: string; targetPersons: string[] }>> {
  const rows = await db
    .selectFrom('audit_alert')
    .innerJoin('access_log', (j) =>
      j
        .onRef('access_log.lg_code', '=', 'audit_alert.lg_code')
        .onRef('access_log.seq', '=', 'audit_alert.entry_seq'),
    )
    .select(['access_log.function', 'access_log.target_persons'])
    .where('audit_alert.lg_code', '=', lgCode)
    .where('audit_alert.rule', '=', rule)
    .where('audit_alert.subject', '=', subject)
    .where('audit_alert.raised_at', '>=', since)
    .execute();
  return rows.map((r) => ({ function: r.function, targetPersons: r.target_persons }));
}

/** Whether an alert of this rule about this subject was raised at or after `since`. */
export async function alertRaisedSince(
  db: Executor,
  lgCode: string,
  rule: string,
  subject: string,
  since: Date,
): Promise<boolean> {
  const row = await db
    .selectFrom('audit_alert')
    .select('alert_id')
    .where('lg_code', '=', lgCode)
    .where('rule', '=', rule)
    .where('subject', '=', subject)
    .where('raised_at', '>=', since)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface AlertFilter {
  rule?: string | undefined;
  staffId?: string | undefined;
  acknowledged?: boolean | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export async function searchAlerts(
  db: Executor,
  lgCode: string,
  filter: AlertFilter,
  page: { offset: number; limit: number },
): Promise<{ rows: AlertRow[]; total: number }> {
  let q = db.selectFrom('audit_alert').where('lg_code', '=', lgCode);
  if (filter.rule !== undefined) q = q.where('rule', '=', filter.rule);
  if (filter.staffId !== undefined) q = q.where('staff_id', '=', filter.staffId);
  if (filter.acknowledged !== undefined) {
    q = q.where('acknowledged_at', filter.acknowledged ? 'is not' : 'is', null);
  }
  if (filter.from !== undefined) q = q.where('raised_at', '>=', filter.from);
  if (filter.to !== undefined) q = q.where('raised_at', '<', filter.to);
  const [rows, count] = await Promise.all([
    q
      .selectAll()
      .orderBy('raised_at', 'desc')
      .orderBy('alert_id', 'desc')
      .offset(page.offset)
      .limit(page.limit)
      .execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function findAlertForUpdate(
  trx: Trx,
  lgCode: string,
  alertId: number,
): Promise<AlertRow | undefined> {
  return trx
    .selectFrom('audit_alert')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('alert_id', '=', alertId)
    .forUpdate()
    .executeTakeFirst();
}

export async function markAcknowledged(
  trx: Trx,
  lgCode: string,
  alertId: number,
  by: string,
  at: Date,
  note: string | null,
): Promise<AlertRow> {
  return trx
    .updateTable('audit_alert')
    .set({ acknowledged_by: by, acknowledged_at: at, acknowledgement_note: note })
    .where('lg_code', '=', lgCode)
    .where('alert_id', '=', alertId)
    .returningAll()
    .executeTakeFirstOrThrow();
}
