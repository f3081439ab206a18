/**
 * The access log (アクセスログ): what an entry is, how it is hashed into its municipality's chain, and how
 * search criteria are kept without names or numbers in clear. Pure: no database, no clock.
 *
 * Chain: `hash = sha256(prev_hash + canonicalJson(entry))`, where the entry includes its own seq, lg_code
 * and occurred_at (ISO, UTC). The first entry of a lane has 64 zeros for prev_hash. Including seq binds an
 * entry to its position and lane, so moving an entry elsewhere is visible even when its content is intact.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config.js';
import { normalizeForSearch, type Clock } from '../shared/index.js';

export const AUDIT_FUNCTIONS = [
  'login',
  'loginFailed',
  'logout',
  'secondFactorFailed',
  'sessionEnded',
  'search',
  'inquiry',
  'reveal',
  'change',
  'issuance',
  'export',
  'permissionChange',
  'staffAdmin',
  'batch',
  'auditSearch',
  'alertAcknowledged',
  'checkpoint',
  'suppression',
  'supportMeasure',
  'backup',
  'keyRotation',
] as const;
export const AuditFunction = z.enum(AUDIT_FUNCTIONS);
export type AuditFunction = z.infer<typeof AuditFunction>;

export const AUDIT_OUTCOMES = ['success', 'refused', 'failed'] as const;
export const AuditOutcome = z.enum(AUDIT_OUTCOMES);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const GENESIS_HASH = '0'.repeat(64);

/**
 * A municipality's log is several hash chains, its lanes, so that appends need not wait for each other:
 * an append takes a lane no other transaction holds (each lane's head stays locked until commit, its WAL
 * flush included). Lane k hands out the seqs k·LANE_SPAN + 1, + 2, … without gaps: a seq names its lane,
 * and lane 0 is the single chain the log was before lanes (migration 0016).
 */
export const LANE_SPAN = 1_000_000_000_000;
/** A municipality opens a new lane only when every lane it has is held, and at most this many. */
export const MAX_LANES = 8;

/** The lane an entry's seq (or a head's last_seq) belongs to. */
export function laneOf(seq: number): number {
  return Math.floor(seq / LANE_SPAN);
}

/** The seqs of lane k lie in (first, last]: `first` is the position before its first entry. */
export function laneRange(lane: number): { first: number; last: number } {
  return { first: lane * LANE_SPAN, last: (lane + 1) * LANE_SPAN - 1 };
}

/**
 * The log number (ログ番号) people see for an entry: its seq in lane 0 (`1234`), else lane and position in
 * the lane (`2-15`, the 15th entry of lane 2).
 */
export function entryNo(seq: number): string {
  const lane = laneOf(seq);
  return lane === 0 ? String(seq) : `${lane}-${seq - laneRange(lane).first}`;
}

/** What a caller records; parsed on entry to appendAccessLog (the trust boundary of the log). */
export const AccessLogInput = z.object({
  lgCode: z.string().regex(/^\d{6}$/),
  staffId: z.string().min(1).max(64).nullable(),
  terminalId: z.string().min(1).max(64),
  function: AuditFunction,
  purpose: z.string().min(1).max(200).optional(),
  /** 宛名番号 of the persons concerned. */
  targetPersons: z.array(z.string().min(1).max(20)).max(10_000).readonly().optional(),
  myNumberAccessed: z.boolean().optional(),
  myNumberPrinted: z.boolean().optional(),
  outcome: AuditOutcome,
  /** ALREADY protected by protectCriteria: never names or numbers in clear. */
  criteria: z.record(z.string(), z.unknown()).optional(),
  /** Ids, codes and counts only. */
  details: z.record(z.string(), z.unknown()).optional(),
  /** Facts the monitoring rules need about the target, computed by the caller; not stored as columns. */
  facts: z
    .object({
      supportMeasureSubject: z.boolean().optional(),
      /** Which targets are support-measure subjects (宛名番号), so one opening raises one alert. */
      supportMeasurePersons: z.array(z.string().min(1).max(20)).max(10_000).optional(),
      sameSurnameAndAddressAsOperator: z.boolean().optional(),
    })
    .optional(),
});
export type AccessLogInput = z.input<typeof AccessLogInput>;

/** An entry as stored and as shown to auditors. */
export interface AccessLogEntry {
  readonly lgCode: string;
  readonly seq: number;
  readonly occurredAt: Date;
  readonly staffId: string | null;
  readonly terminalId: string;
  readonly function: string;
  readonly purpose: string | null;
  readonly targetPersons: readonly string[];
  readonly myNumberAccessed: boolean;
  readonly myNumberPrinted: boolean;
  readonly outcome: AuditOutcome;
  readonly criteria: Record<string, unknown> | null;
  readonly details: Record<string, unknown> | null;
  readonly prevHash: string;
  readonly hash: string;
}

/** The hashed content of an entry: every column but the hashes themselves. */
export type ChainedContent = Omit<AccessLogEntry, 'prevHash' | 'hash'>;

/**
 * JSON with object keys sorted at every level and undefined members dropped, so the same value always
 * gives the same text — also after a round trip through jsonb, which reorders keys.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** The canonical text of an entry's content, with its occurredAt (ISO) and seq as given. */
function canonicalContent(
  content: Omit<ChainedContent, 'seq' | 'occurredAt'>,
  occurredAt: string,
  seq: number | string,
): string {
  return canonicalJson({
    lgCode: content.lgCode,
    seq,
    occurredAt,
    staffId: content.staffId,
    terminalId: content.terminalId,
    function: content.function,
    purpose: content.purpose,
    targetPersons: content.targetPersons,
    myNumberAccessed: content.myNumberAccessed,
    myNumberPrinted: content.myNumberPrinted,
    outcome: content.outcome,
    criteria: content.criteria,
    details: content.details,
  });
}

/** The hash an entry must carry when it sits at `seq` after `prevHash`. */
export function chainHash(prevHash: string, content: ChainedContent, seq: number = content.seq): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalContent(content, content.occurredAt.toISOString(), seq))
    .digest('hex');
}

/** A stand-in for the seq no content can hold (a JSON string with a random part), cut out of the text. */
const SEQ_MARK = `seq:${randomUUID()}`;

/**
 * The canonical text of an entry's content before and after its seq, for the database to hash when it
 * takes the seq under the chain head's lock (`appendEntry`): at seq `n` after `prevHash`, `chainHash` is
 * sha256(prevHash + beforeSeq + n + afterSeq).
 */
export function chainHashParts(content: Omit<ChainedContent, 'seq'>): {
  beforeSeq: string;
  afterSeq: string;
} {
  const parts = canonicalContent(content, content.occurredAt.toISOString(), SEQ_MARK).split(
    JSON.stringify(SEQ_MARK),
  );
  if (parts.length !== 2) throw new Error('the canonical content must hold the seq once');
  return { beforeSeq: parts[0]!, afterSeq: parts[1]! };
}

export const PROTECTED_PREFIX = 'hmac:';

/**
 * Search criteria fit for the log: sensitive values (names, readings, numbers, addresses, birth dates) are
 * normalised as search normalises them and replaced by `hmac:` + HMAC-SHA256 (hex) under the audit
 * criteria key, so an auditor sees that two searches used the same name without the log holding it (and
 * without a dictionary attack being possible from the database alone: the key is outside it).
 * Other values are kept; undefined ones dropped.
 */
export function protectCriteria(
  criteria: Readonly<Record<string, string | number | boolean | undefined>>,
  sensitiveKeys: readonly string[],
  key: Buffer,
): Record<string, unknown> {
  const sensitive = new Set(sensitiveKeys);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(criteria)) {
    if (value === undefined) continue;
    out[name] = sensitive.has(name) ? protectValue(String(value), key) : value;
  }
  return out;
}

/** The protected form of one value: what an auditor computes to find searches for a given name. */
export function protectValue(value: string, key: Buffer): string {
  const digest = createHmac('sha256', key).update(normalizeForSearch(value)).digest('hex');
  return `${PROTECTED_PREFIX}${digest}`;
}

/** What appending needs besides the transaction: the clock, and the thresholds of the monitoring rules. */
export interface AuditContext {
  readonly clock: Clock;
  readonly monitoring: MonitoringConfig;
}

export type MonitoringConfig = Config['monitoring'];
