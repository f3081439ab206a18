/**
 * Writing to and searching the access log. `appendAccessLog` runs inside the caller's transaction, so the
 * entry commits or rolls back with the act it records; the monitoring rules run in the same transaction.
 */
import { randomInt } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/index.js';
import {
  AccessLogInput,
  AuditFunction,
  AuditOutcome,
  chainHashParts,
  entryNo,
  MAX_LANES,
  type AccessLogEntry,
  type AuditContext,
} from './access-log.js';
import {
  appendEntry,
  openLanes,
  searchEntries,
  type AccessLogRow,
  type AppendedEntry,
  type Executor,
} from './access-log.repository.js';
import { evaluateEntryRules } from './monitoring.js';
import { parseAuditInput } from './parse.js';

/**
 * Appends one entry to its municipality's chain in one statement (`appendEntry`): in a lane no other
 * transaction holds — the lane's head stays locked until commit, so the lane never forks — taking the
 * lane's next seq and hashing the entry onto the lane's previous hash. When all MAX_LANES lanes are held,
 * the append waits for one. A transaction keeps the lane it took for all its entries of that
 * municipality, so it never holds two. Then the entry monitoring rules run (`evaluateEntryRules`,
 * serialised per operator). The time is the clock's as the entry is made, before any wait for a lane:
 * along a lane it may trail the previous entry's by that wait (milliseconds); the seq is the lane's order.
 * Must be called in the transaction of the act itself.
 */
export async function appendAccessLog(
  trx: Transaction<Database>,
  input: AccessLogInput,
  ctx: AuditContext,
): Promise<{ seq: number }> {
  const e = parseAuditInput(AccessLogInput, input);
  const facts = Object.fromEntries(Object.entries(e.facts ?? {}).filter(([, v]) => v === true));
  const details =
    e.details === undefined && Object.keys(facts).length === 0
      ? null
      : { ...(e.details ?? {}), ...(Object.keys(facts).length > 0 ? { facts } : {}) };
  const content = {
    lgCode: e.lgCode,
    occurredAt: ctx.clock.now(),
    staffId: e.staffId,
    terminalId: e.terminalId,
    function: e.function,
    purpose: e.purpose ?? null,
    targetPersons: [...(e.targetPersons ?? [])],
    myNumberAccessed: e.myNumberAccessed ?? false,
    myNumberPrinted: e.myNumberPrinted ?? false,
    outcome: e.outcome,
    // A jsonb round trip keeps only JSON: hash what will be read back.
    criteria:
      e.criteria === undefined ? null : (JSON.parse(JSON.stringify(e.criteria)) as Record<string, unknown>),
    details: details === null ? null : (JSON.parse(JSON.stringify(details)) as Record<string, unknown>),
  };
  const appended = await appendInLane(
    trx,
    entryToRow({ ...content, seq: 0, prevHash: '', hash: '' }),
    chainHashParts(content),
  );
  const entry: AccessLogEntry = {
    ...content,
    seq: Number(appended.seq),
    prevHash: appended.prev_hash,
    hash: appended.hash,
  };
  await evaluateEntryRules(trx, entry, e.facts ?? {}, ctx);
  return { seq: entry.seq };
}

/** The lane each open transaction holds, per municipality. */
const heldLanes = new WeakMap<Transaction<Database>, Map<string, number>>();

async function appendInLane(
  trx: Transaction<Database>,
  row: AccessLogRow,
  parts: { beforeSeq: string; afterSeq: string },
): Promise<AppendedEntry> {
  const lg = row.lg_code;
  let held = heldLanes.get(trx);
  const mine = held?.get(lg);
  let appended = await appendEntry(trx, row, parts, mine ?? 'free');
  if (!appended) {
    // The municipality's first entry (its lanes are opened), or every lane is held by another transaction:
    // then wait for one of them, spreading the waiters.
    await openLanes(trx, lg);
    const lane = randomInt(MAX_LANES);
    appended = (await appendEntry(trx, row, parts, 'free')) ?? (await appendEntry(trx, row, parts, lane));
    if (!appended) throw new Error(`lane ${lane} of the access log of ${lg} could not be taken`);
  }
  if (!held) heldLanes.set(trx, (held = new Map<string, number>()));
  held.set(lg, appended.lane);
  return appended;
}

export function entryToRow(e: AccessLogEntry): AccessLogRow {
  return {
    lg_code: e.lgCode,
    seq: e.seq,
    occurred_at: e.occurredAt,
    staff_id: e.staffId,
    terminal_id: e.terminalId,
    function: e.function,
    purpose: e.purpose,
    target_persons: [...e.targetPersons],
    my_number_accessed: e.myNumberAccessed,
    my_number_printed: e.myNumberPrinted,
    outcome: e.outcome,
    criteria: e.criteria,
    details: e.details,
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

export function rowToEntry(r: AccessLogRow): AccessLogEntry {
  return {
    lgCode: r.lg_code,
    seq: Number(r.seq),
    occurredAt: new Date(r.occurred_at),
    staffId: r.staff_id,
    terminalId: r.terminal_id,
    function: r.function,
    purpose: r.purpose,
    targetPersons: r.target_persons,
    myNumberAccessed: r.my_number_accessed,
    myNumberPrinted: r.my_number_printed,
    outcome: r.outcome,
    criteria: r.criteria,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

const Instant = z.iso.datetime({ offset: true });

/** What auditors search the log by: operator, person (宛名番号), function, outcome and time. */
export const AccessLogQuery = z.object({
  staffId: z.string().min(1).max(64).optional(),
  personNo: z.string().min(1).max(20).optional(),
  function: AuditFunction.optional(),
  outcome: AuditOutcome.optional(),
  /** Inclusive. */
  from: Instant.optional(),
  /** Exclusive. */
  to: Instant.optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(500).default(50),
});
export type AccessLogQuery = z.input<typeof AccessLogQuery>;

/** An entry as auditors see it. */
export const AccessLogView = z.object({
  seq: z.number(),
  /** The log number (ログ番号) shown to people: `entryNo`. */
  entryNo: z.string(),
  occurredAt: z.string(),
  staffId: z.string().nullable(),
  terminalId: z.string(),
  function: z.string(),
  purpose: z.string().nullable(),
  targetPersons: z.array(z.string()),
  myNumberAccessed: z.boolean(),
  myNumberPrinted: z.boolean(),
  outcome: z.string(),
  criteria: z.record(z.string(), z.unknown()).nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AccessLogView = z.infer<typeof AccessLogView>;

export const AccessLogPage = z.object({
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
  entries: z.array(AccessLogView),
});
export type AccessLogPage = z.infer<typeof AccessLogPage>;

function toView(e: AccessLogEntry): AccessLogView {
  return {
    seq: e.seq,
    entryNo: entryNo(e.seq),
    occurredAt: e.occurredAt.toISOString(),
    staffId: e.staffId,
    terminalId: e.terminalId,
    function: e.function,
    purpose: e.purpose,
    targetPersons: [...e.targetPersons],
    myNumberAccessed: e.myNumberAccessed,
    myNumberPrinted: e.myNumberPrinted,
    outcome: e.outcome,
    criteria: e.criteria,
    details: e.details,
  };
}

/** Newest first (by time, then seq). */
export async function searchAccessLog(
  db: Executor,
  lgCode: string,
  query: AccessLogQuery,
): Promise<AccessLogPage> {
  const q = parseAuditInput(AccessLogQuery, query);
  const { rows, total } = await searchEntries(
    db,
    lgCode,
    {
      staffId: q.staffId,
      personNo: q.personNo,
      function: q.function,
      outcome: q.outcome,
      from: q.from === undefined ? undefined : new Date(q.from),
      to: q.to === undefined ? undefined : new Date(q.to),
    },
    { offset: (q.page - 1) * q.pageSize, limit: q.pageSize },
  );
  return { total, page: q.page, pageSize: q.pageSize, entries: rows.map((r) => toView(rowToEntry(r))) };
}
