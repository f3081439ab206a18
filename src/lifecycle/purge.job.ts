/**
 * The purge (除票の消去): physically deletes every removed record whose retention has ended (see
 * retention.ts for the boundary), live or archived, with every row that holds the person — history
 * snapshots, the current-record index, changes that concern only purged persons, issuance records, support
 * measures, suppressions, edit locks, outbox messages — then scans every table of the schema to confirm no
 * row holds them any more, and writes a signed deletion certificate into the access log.
 *
 * Rows shared with persons who stay are redacted, not deleted: a change that also wrote a snapshot of a
 * person who stays keeps its row (the other persons' snapshots point at it) but its payload (the request as
 * entered) is replaced by {"redacted":"purge"} and its notes emptied; an issuance that certified persons who
 * stay keeps its row without the purged 宛名番号 in subject_persons, and its requester is redacted when it
 * names a purged person. A household number is deleted when nothing refers to it any more.
 *
 * The one exception is the access log: its entries are hash-chained, so the 宛名番号 in target_persons of
 * entries about a purged person stay (a bare internal serial: after the purge no row anywhere maps it to a
 * name, a number or an address). The scan leaves that one column out and checks every other.
 *
 * Job rules: one lifecycle lock per municipality, dry run, batches of persons each in one transaction,
 * per-person results, an access-log entry for every run. A run records that its fiscal year's purge is
 * done (lifecycle_run), so the October timer does not repeat it; running it again by hand is harmless.
 */
import { createHmac, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import {
  appendAccessLog,
  canonicalJson,
  keyIdOf,
  type AuditKey,
  type MonitoringConfig,
} from '../audit/index.js';
import { bigintArray, textArray, type Db } from '../db/index.js';
import {
  FlexDate,
  fiscalYearOf,
  requirePermission,
  type Actor,
  type Clock,
  type PlainDate,
} from '../shared/index.js';
import {
  findRun,
  holdsToken,
  recordRun,
  scanForTraces,
  withLifecycleLock,
  SCAN_EXCEPTIONS,
  type Executor,
  type TraceScan,
  type Trx,
} from './lifecycle.repository.js';
import { backupExpiresOn } from './backup.js';
import { isPurgeDue, purgeCutoff, retentionStart } from './retention.js';

/**
 * Days a backup is kept by default (PIA: daily backups kept one month; `JUMIN_BACKUP_RETENTION_DAYS`).
 * The last backup holding a purged person is the one taken on the day of the purge; it is gone this many
 * days later. Callers pass the configured figure.
 */
export const BACKUP_RETENTION_DAYS = 31;
const DEFAULT_BATCH_SIZE = 200;

export interface PurgeDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly auditKey: AuditKey;
  readonly monitoring: MonitoringConfig;
  readonly backupRetentionDays?: number;
  readonly batchSize?: number;
}

export interface PurgeCandidate {
  personNo: string;
  /** The day retention counts from (the latest plausible removal day). */
  retentionStart: PlainDate;
  archived: boolean;
}

export interface PurgeItemResult {
  personNo: string;
  retentionStart: PlainDate;
  outcome: 'wouldPurge' | 'purged' | 'failed';
  /** Error code of a failed batch; never a message with data. */
  error?: string;
}

/** The deletion certificate (消去証明): what was deleted, proven gone, signed with the audit key. */
export interface PurgeCertificate {
  kind: 'jumin.purgeCertificate.v1';
  lgCode: string;
  fiscalYear: number;
  /** Removed records whose retention started before this day were purged. */
  removedBefore: PlainDate;
  runAt: string;
  operator: string;
  terminal: string;
  persons: number;
  /** HMAC-SHA256 of `lgCode:personNo` under a key derived from the audit key (purgedPersonHash). */
  personHashes: string[];
  rowsDeleted: Record<string, number>;
  rowsRedacted: Record<string, number>;
  verification: { tablesScanned: number; traces: TraceScan['traces']; exceptions: string[] };
  /** The last backup that still holds the purged persons is deleted on this day. */
  lastBackupExpiresOn: PlainDate;
  /** Fingerprint of the audit public key that verifies `signature`. */
  keyId: string;
}

export interface SignedPurgeCertificate {
  certificate: PurgeCertificate;
  /** base64 Ed25519 signature of canonicalJson(certificate). */
  signature: string;
}

export interface PurgeReport {
  lgCode: string;
  runOn: PlainDate;
  fiscalYear: number;
  removedBefore: PlainDate;
  dryRun: boolean;
  items: PurgeItemResult[];
  rowsDeleted: Record<string, number>;
  rowsRedacted: Record<string, number>;
  verification?: TraceScan;
  signed?: SignedPurgeCertificate;
  accessLogSeq?: number;
  /** False when a batch failed or the scan still found traces. */
  ok: boolean;
}

/** The key for hashing purged persons' numbers: only a holder of the audit key can test a guess. */
function personHashKey(auditKey: AuditKey): Buffer {
  const der = auditKey.privateKey.export({ type: 'pkcs8', format: 'der' });
  return Buffer.from(hkdfSync('sha256', der, 'jumin-purge', 'person-hmac-v1', 32));
}

/**
 * The hash a deletion certificate lists for a purged person. Keyed (not a plain or salted hash): the
 * 宛名番号 space is small enough to hash every number, so without the key nobody can tell from the
 * certificate who was purged; an auditor holding the audit key can check whether a given person was.
 */
export function purgedPersonHash(auditKey: AuditKey, lgCode: string, personNo: string): string {
  return createHmac('sha256', personHashKey(auditKey)).update(`${lgCode}:${personNo}`).digest('hex');
}

export function signPurgeCertificate(certificate: PurgeCertificate, key: AuditKey): SignedPurgeCertificate {
  const signature = sign(null, Buffer.from(canonicalJson(certificate), 'utf8'), key.privateKey);
  return { certificate, signature: signature.toString('base64') };
}

/** Verifies a deletion certificate with the audit public key. */
export function verifyPurgeCertificate(signed: SignedPurgeCertificate, publicKey: KeyObject): boolean {
  return verify(
    null,
    Buffer.from(canonicalJson(signed.certificate), 'utf8'),
    publicKey,
    Buffer.from(signed.signature, 'base64'),
  );
}

interface CandidateRow {
  person_no: string;
  removed_on: string;
  death_date: unknown;
  processed_on: string | null;
  archived: boolean;
}

/**
 * Removed records (live and archived) whose retention has ended on `runOn`. The processing day of the
 * removal is the earliest processing day among the snapshots after the person's last current one.
 */
export async function findPurgeCandidates(
  db: Executor,
  lgCode: string,
  runOn: PlainDate,
  personNos?: readonly string[],
): Promise<PurgeCandidate[]> {
  const cutoff = purgeCutoff(runOn);
  const only = personNos ? sql`AND r.person_no = ANY(${textArray(personNos, 'bpchar')})` : sql``;
  const { rows } = await sql<CandidateRow>`
    SELECT r.person_no, r.removed_on, r.record->'removal'->'deathDate' AS death_date, r.archived,
      (SELECT min(c.processed_on)
         FROM resident_history_all h JOIN change c ON c.change_id = h.change_id
        WHERE h.lg_code = r.lg_code AND h.person_no = r.person_no
          AND h.history_seq > COALESCE((
            SELECT max(h2.history_seq) FROM resident_history_all h2
             WHERE h2.lg_code = r.lg_code AND h2.person_no = r.person_no AND h2.status = 'current'), 0)
      ) AS processed_on
    FROM (
      SELECT lg_code, person_no, status, removed_on, record, false AS archived FROM resident
      UNION ALL
      SELECT lg_code, person_no, status, removed_on, record, true AS archived FROM resident_archive
    ) r
    WHERE r.lg_code = ${lgCode} AND r.status <> 'current' AND r.removed_on IS NOT NULL
      AND r.removed_on < ${cutoff} ${only}
    ORDER BY r.person_no`.execute(db);
  const candidates: PurgeCandidate[] = [];
  for (const r of rows) {
    const death = FlexDate.safeParse(r.death_date);
    const start = retentionStart({
      effectiveDate: r.removed_on as PlainDate,
      processedOn: (r.processed_on ?? undefined) as PlainDate | undefined,
      deathDate: death.success ? death.data : undefined,
    });
    if (start && isPurgeDue(start, runOn)) {
      candidates.push({ personNo: r.person_no, retentionStart: start, archived: r.archived });
    }
  }
  return candidates;
}

function add(into: Record<string, number>, table: string, n: number | bigint | undefined): void {
  const v = Number(n ?? 0);
  if (v > 0) into[table] = (into[table] ?? 0) + v;
}

const REDACTED = JSON.stringify({ redacted: 'purge' });

/** Deletes the municipality's rows of `table` whose `column` is one of `values`, and counts them. */
async function deleteIn(
  trx: Trx,
  deleted: Record<string, number>,
  table: string,
  lgCode: string,
  column: string,
  values: RawBuilder<unknown[]>,
): Promise<void> {
  const r = await sql`DELETE FROM ${sql.table(table)}
    WHERE lg_code = ${lgCode} AND ${sql.ref(column)} = ANY(${values})`.execute(trx);
  add(deleted, table, r.numAffectedRows);
}

/**
 * Deletes one batch of persons and every row holding them, in the caller's transaction. Returns the
 * tokens the final scan looks for: the 宛名番号 and every 住民票コード, 個人番号 and 在留カード番号 the
 * persons ever held — identifiers unique to one person (names are not: a namesake would be a false trace).
 */
async function purgeBatch(
  trx: Trx,
  lgCode: string,
  personNos: readonly string[],
  deleted: Record<string, number>,
  redacted: Record<string, number>,
): Promise<string[]> {
  await sql`SELECT set_config('jumin.allow_delete', 'on', true), set_config('jumin.purge', 'on', true)`.execute(
    trx,
  );
  // The 宛名番号 as text (for text columns and arrays) and as char(10), like the register's columns: a
  // text[] against those would compare every row as text, past their indexes.
  const P = textArray(personNos);
  const persons = textArray(personNos, 'bpchar');
  const { rows: tokenRows } = await sql<{ tok: string }>`
    SELECT DISTINCT x.tok FROM resident_history_all h,
      LATERAL (VALUES (h.person_no::text), (h.record->>'residentCode'), (h.record->>'myNumber'),
                      (h.record->'foreign'->'status'->>'residenceCardNo')) AS x(tok)
    WHERE h.lg_code = ${lgCode} AND h.person_no = ANY(${persons}) AND x.tok IS NOT NULL`.execute(trx);
  const tokens = [...new Set([...personNos, ...tokenRows.map((r) => r.tok)])];
  const { rows: householdRows } = await sql<{ household_no: string }>`
    SELECT DISTINCT household_no FROM resident_history_all
    WHERE lg_code = ${lgCode} AND person_no = ANY(${persons}) AND household_no IS NOT NULL`.execute(trx);
  const households = householdRows.map((r) => r.household_no);
  const { rows: changeRows } = await sql<{ change_id: number; shared: boolean }>`
    SELECT c.change_id, EXISTS (
      SELECT 1 FROM resident_history_all o
      WHERE o.change_id = c.change_id AND NOT (o.person_no = ANY(${persons}))) AS shared
    FROM (SELECT DISTINCT change_id FROM resident_history_all
          WHERE lg_code = ${lgCode} AND person_no = ANY(${persons})) c`.execute(trx);

  await deleteIn(trx, deleted, 'edit_lock', lgCode, 'person_no', persons);

  // Messages about the persons go; a message about someone else that mentions them goes once delivered
  // (an undelivered one stays, the scan reports it, and the operator decides).
  const r2 = await sql`
    DELETE FROM outbox WHERE lg_code = ${lgCode}
      AND (aggregate_key = ANY(${P})
           OR (dispatched_at IS NOT NULL AND ${holdsToken(sql<string>`payload::text`, tokens)}))`.execute(
    trx,
  );
  add(deleted, 'outbox', r2.numAffectedRows);

  for (const [table, disposals] of [
    ['issuance', 'issuance_disposal'],
    ['issuance_archive', 'issuance_disposal_archive'],
  ] as const) {
    const { rows } = await sql<{ issuance_id: number; subject_persons: string[]; names_purged: boolean }>`
      SELECT issuance_id, subject_persons, ${holdsToken(sql<string>`requester::text`, tokens)} AS names_purged
      FROM ${sql.table(table)}
      WHERE lg_code = ${lgCode}
        AND (subject_persons && ${P}
             OR (household_no = ANY(${textArray(households)})
                 AND ${holdsToken(sql<string>`requester::text`, tokens)}))`.execute(trx);
    const purged = new Set(personNos);
    const gone = rows.filter((r) => r.subject_persons.every((p) => purged.has(p))).map((r) => r.issuance_id);
    if (gone.length > 0) {
      await deleteIn(trx, deleted, disposals, lgCode, 'issuance_id', bigintArray(gone));
      await deleteIn(trx, deleted, table, lgCode, 'issuance_id', bigintArray(gone));
    }
    for (const r of rows.filter((x) => !gone.includes(x.issuance_id))) {
      const remaining = r.subject_persons.filter((p) => !purged.has(p));
      await sql`UPDATE ${sql.table(table)}
        SET subject_persons = ${textArray(remaining)},
            requester = CASE WHEN ${r.names_purged} THEN ${REDACTED}::jsonb ELSE requester END
        WHERE lg_code = ${lgCode} AND issuance_id = ${r.issuance_id}`.execute(trx);
      add(redacted, table, 1);
    }
  }

  const measures = (
    await trx
      .selectFrom('support_measure')
      .select('measure_id')
      .where('lg_code', '=', lgCode)
      .where('person_no', 'in', personNos)
      .execute()
  ).map((m) => m.measure_id);
  if (measures.length > 0) {
    for (const table of [
      'support_measure_case_release',
      'support_measure_event',
      'support_measure_detail',
      'support_measure_protected',
      'support_measure',
    ]) {
      await deleteIn(trx, deleted, table, lgCode, 'measure_id', bigintArray(measures));
    }
  }
  await deleteIn(trx, deleted, 'support_measure_protected', lgCode, 'person_no', persons);

  await deleteSuppressions(trx, lgCode, 'person_no', personNos, deleted);

  for (const table of ['resident_history', 'resident_history_archive']) {
    await deleteIn(trx, deleted, table, lgCode, 'person_no', persons);
  }
  const goneChanges = changeRows.filter((c) => !c.shared).map((c) => c.change_id);
  const sharedChanges = changeRows.filter((c) => c.shared).map((c) => c.change_id);
  if (goneChanges.length > 0) {
    const r = await trx.deleteFrom('change').where('change_id', 'in', goneChanges).executeTakeFirst();
    add(deleted, 'change', r.numDeletedRows);
  }
  if (sharedChanges.length > 0) {
    const r = await sql`UPDATE change SET payload = ${REDACTED}::jsonb, notes = NULL
      WHERE change_id = ANY(${bigintArray(sharedChanges)})`.execute(trx);
    add(redacted, 'change', r.numAffectedRows);
  }
  for (const table of ['resident', 'resident_archive']) {
    await deleteIn(trx, deleted, table, lgCode, 'person_no', persons);
  }

  // Household numbers nothing refers to any more go too, with suppressions set on the household.
  if (households.length > 0) {
    const { rows: unused } = await sql<{ household_no: string }>`
      SELECT h.household_no FROM unnest(${textArray(households)}) AS h(household_no)
      WHERE NOT EXISTS (SELECT 1 FROM resident_all r WHERE r.lg_code = ${lgCode} AND r.household_no = h.household_no)
        AND NOT EXISTS (SELECT 1 FROM resident_history_all r WHERE r.lg_code = ${lgCode} AND r.household_no = h.household_no)
        AND NOT EXISTS (SELECT 1 FROM issuance_all i WHERE i.lg_code = ${lgCode} AND i.household_no = h.household_no)`.execute(
      trx,
    );
    const unusedNos = unused.map((u) => u.household_no);
    if (unusedNos.length > 0) {
      await deleteSuppressions(trx, lgCode, 'household_no', unusedNos, deleted);
      await deleteIn(trx, deleted, 'household', lgCode, 'household_no', textArray(unusedNos, 'bpchar'));
    }
  }
  return tokens;
}

async function deleteSuppressions(
  trx: Trx,
  lgCode: string,
  column: 'person_no' | 'household_no',
  values: readonly string[],
  deleted: Record<string, number>,
): Promise<void> {
  const ids = (
    await trx
      .selectFrom('suppression')
      .select('suppression_id')
      .where('lg_code', '=', lgCode)
      .where(column, 'in', values)
      .execute()
  ).map((s) => s.suppression_id);
  if (ids.length === 0) return;
  for (const table of ['suppression_release', 'suppression']) {
    await deleteIn(trx, deleted, table, lgCode, 'suppression_id', bigintArray(ids));
  }
}

/**
 * `jumin purge --dry-run` / `--run`. The dry run lists the persons a run would purge and deletes nothing;
 * the run purges them in batches, scans the schema, and writes the signed deletion certificate.
 */
export async function runPurge(
  deps: PurgeDeps,
  actor: Actor,
  options: { dryRun: boolean },
): Promise<PurgeReport> {
  requirePermission(actor, 'batch');
  const { db, clock } = deps;
  const lgCode = actor.lgCode;
  const runOn = clock.today();
  const fiscalYear = fiscalYearOf(runOn);
  const removedBefore = purgeCutoff(runOn);
  const ctx = { clock, monitoring: deps.monitoring };
  return withLifecycleLock(db, lgCode, async (conn) => {
    const candidates = await findPurgeCandidates(conn, lgCode, runOn);
    const report: PurgeReport = {
      lgCode,
      runOn,
      fiscalYear,
      removedBefore,
      dryRun: options.dryRun,
      items: [],
      rowsDeleted: {},
      rowsRedacted: {},
      ok: true,
    };
    if (options.dryRun) {
      report.items = candidates.map((c) => ({
        personNo: c.personNo,
        retentionStart: c.retentionStart,
        outcome: 'wouldPurge',
      }));
      // No target persons: the log must not name whom the purge is about to delete.
      report.accessLogSeq = (
        await conn.transaction().execute((trx) =>
          appendAccessLog(
            trx,
            {
              lgCode,
              staffId: actor.staffId,
              terminalId: actor.terminalId,
              function: 'batch',
              outcome: 'success',
              details: {
                job: 'purge',
                dryRun: true,
                fiscalYear,
                removedBefore,
                candidates: candidates.length,
              },
            },
            ctx,
          ),
        )
      ).seq;
      return report;
    }

    const tokens: string[] = [];
    const purged: string[] = [];
    const size = deps.batchSize ?? DEFAULT_BATCH_SIZE;
    for (let i = 0; i < candidates.length; i += size) {
      const batch = candidates.slice(i, i + size);
      const deleted: Record<string, number> = {};
      const redacted: Record<string, number> = {};
      try {
        const batchTokens = await conn.transaction().execute(async (trx) => {
          // Checked again inside the transaction: a cancellation may have restored someone meanwhile.
          const still = await findPurgeCandidates(
            trx,
            lgCode,
            runOn,
            batch.map((c) => c.personNo),
          );
          const nos = still.map((c) => c.personNo);
          return nos.length > 0 ? purgeBatch(trx, lgCode, nos, deleted, redacted) : [];
        });
        const done = new Set(batchTokens);
        for (const c of batch) {
          const ok = done.has(c.personNo);
          if (ok) purged.push(c.personNo);
          report.items.push({
            personNo: c.personNo,
            retentionStart: c.retentionStart,
            outcome: ok ? 'purged' : 'failed',
            ...(ok ? {} : { error: 'NO_LONGER_DUE' }),
          });
        }
        tokens.push(...batchTokens);
        for (const [t, n] of Object.entries(deleted)) add(report.rowsDeleted, t, n);
        for (const [t, n] of Object.entries(redacted)) add(report.rowsRedacted, t, n);
      } catch (e) {
        report.ok = false;
        const code = (e as { code?: unknown }).code;
        for (const c of batch) {
          report.items.push({
            personNo: c.personNo,
            retentionStart: c.retentionStart,
            outcome: 'failed',
            error: typeof code === 'string' ? code : 'PURGE_FAILED',
          });
        }
      }
    }

    const verification = await scanForTraces(conn, { tokens: [...new Set(tokens)] });
    report.verification = verification;
    if (verification.traces.length > 0) report.ok = false;
    const runAt = clock.now();
    const certificate: PurgeCertificate = {
      kind: 'jumin.purgeCertificate.v1',
      lgCode,
      fiscalYear,
      removedBefore,
      runAt: runAt.toISOString(),
      operator: actor.staffId,
      terminal: actor.terminalId,
      persons: purged.length,
      personHashes: purged.map((p) => purgedPersonHash(deps.auditKey, lgCode, p)).sort(),
      rowsDeleted: report.rowsDeleted,
      rowsRedacted: report.rowsRedacted,
      verification: {
        tablesScanned: verification.tablesScanned,
        traces: verification.traces,
        exceptions: Object.entries(SCAN_EXCEPTIONS).map(([t, c]) => `${t}.${c}`),
      },
      lastBackupExpiresOn: backupExpiresOn(runOn, deps.backupRetentionDays ?? BACKUP_RETENTION_DAYS),
      keyId: keyIdOf(deps.auditKey.publicKey),
    };
    const signed = signPurgeCertificate(certificate, deps.auditKey);
    report.signed = signed;
    report.accessLogSeq = await conn.transaction().execute(async (trx) => {
      const { seq } = await appendAccessLog(
        trx,
        {
          lgCode,
          staffId: actor.staffId,
          terminalId: actor.terminalId,
          function: 'batch',
          outcome: report.ok ? 'success' : 'failed',
          details: {
            job: 'purge',
            dryRun: false,
            failed: report.items.filter((i) => i.outcome === 'failed').length,
            deletionCertificate: signed.certificate,
            signature: signed.signature,
          },
        },
        ctx,
      );
      // Only a complete, verified run marks the fiscal year done; otherwise the timer tries again.
      if (report.ok) {
        await recordRun(trx, {
          lgCode,
          job: 'purge',
          period: fiscalYear,
          finishedAt: runAt,
          staffId: actor.staffId,
          persons: purged.length,
          accessLogSeq: seq,
        });
      }
      return seq;
    });
    return report;
  });
}

/** Whether this fiscal year's purge has been done (the October timer asks before running). */
export async function purgeDone(db: Executor, lgCode: string, fiscalYear: number): Promise<boolean> {
  return (await findRun(db, lgCode, 'purge', fiscalYear)) !== undefined;
}
