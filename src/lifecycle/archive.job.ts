/**
 * The removed-records archive (除票の別保存): once a year, outside the busy season, removed records whose
 * removal took effect more than five years before the run move — current-record row and every history
 * snapshot — from the live tables to their archive tables (same rows, same indexes), and issuance records
 * whose every subject is archived move with their disposals. Each batch moves in one transaction: insert
 * into the archive, delete from the live table (jumin.allow_delete, for this transaction only).
 *
 * Search, inquiry and certificates read the *_all views over live and archive, so an archived 除票 is still
 * found (marked removed) and certifiable. Changes work on the live tables only: a change (a correction, or
 * a cancellation that would restore the person) to an archived person is refused as not found; such a
 * person is first brought back with `restoreFromArchive`. Change rows stay in the live table (other
 * persons' snapshots may share them).
 *
 * Job rules: the lifecycle lock, dry run, batches, per-person results, an access-log entry, and the record
 * of the year's run (lifecycle_run) so the yearly timer does not repeat it.
 */
import { sql } from 'kysely';
import { appendAccessLog, type MonitoringConfig } from '../audit/index.js';
import { textArray, type Db } from '../db/index.js';
import {
  NotFoundError,
  parsePersonNo,
  requirePermission,
  type Actor,
  type Clock,
  type PlainDate,
} from '../shared/index.js';
import {
  findRun,
  recordRun,
  tableColumns,
  withLifecycleLock,
  type Executor,
  type Trx,
} from './lifecycle.repository.js';
import { archiveCutoff } from './retention.js';

const DEFAULT_BATCH_SIZE = 500;

export interface ArchiveDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly monitoring: MonitoringConfig;
  readonly batchSize?: number;
}

export interface ArchiveItemResult {
  personNo: string;
  removedOn: PlainDate;
  outcome: 'wouldArchive' | 'archived' | 'skipped' | 'failed';
  /** Why a person was skipped or failed: a code, never data. */
  reason?: string;
}

export interface ArchiveReport {
  lgCode: string;
  runOn: PlainDate;
  removedBefore: PlainDate;
  dryRun: boolean;
  items: ArchiveItemResult[];
  issuancesArchived: number;
  accessLogSeq: number;
  ok: boolean;
}

/** Live removed records whose removal took effect before the cutoff (more than five years before the run). */
export async function findArchiveCandidates(
  db: Executor,
  lgCode: string,
  runOn: PlainDate,
): Promise<Array<{ personNo: string; removedOn: PlainDate }>> {
  const rows = await db
    .selectFrom('resident')
    .select(['person_no', 'removed_on'])
    .where('lg_code', '=', lgCode)
    .where('status', '<>', 'current')
    .where('removed_on', 'is not', null)
    .where('removed_on', '<', archiveCutoff(runOn))
    .orderBy('person_no')
    .execute();
  return rows.map((r) => ({ personNo: r.person_no, removedOn: r.removed_on as PlainDate }));
}

/** Moves rows matching `where` from one table to another of the same shape (columns from the catalog). */
async function moveRows(
  trx: Trx,
  from: string,
  to: string,
  where: ReturnType<typeof sql<boolean>>,
): Promise<number> {
  const columns = sql.join((await tableColumns(trx, from)).map((c) => sql.id(c)));
  await sql`INSERT INTO ${sql.table(to)} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM ${sql.table(from)} WHERE ${where}`.execute(
    trx,
  );
  const r = await sql`DELETE FROM ${sql.table(from)} WHERE ${where}`.execute(trx);
  return Number(r.numAffectedRows ?? 0);
}

async function allowDelete(trx: Trx): Promise<void> {
  await sql`SELECT set_config('jumin.allow_delete', 'on', true)`.execute(trx);
}

/** One batch: re-checks each person under a row lock, skips those being edited, moves the rest. */
async function archiveBatch(
  trx: Trx,
  lgCode: string,
  runOn: PlainDate,
  personNos: readonly string[],
  now: Date,
): Promise<{ archived: string[]; skipped: Map<string, string> }> {
  await allowDelete(trx);
  const still = await trx
    .selectFrom('resident')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', personNos)
    .where('status', '<>', 'current')
    .where('removed_on', '<', archiveCutoff(runOn))
    .forUpdate()
    .execute();
  const locked = await trx
    .selectFrom('edit_lock')
    .select('person_no')
    .where('lg_code', '=', lgCode)
    .where('person_no', 'in', personNos)
    .where('expires_at', '>', now)
    .execute();
  const skipped = new Map<string, string>();
  for (const l of locked) skipped.set(l.person_no, 'EDIT_LOCKED');
  const stillNos = new Set(still.map((s) => s.person_no));
  for (const p of personNos) if (!stillNos.has(p)) skipped.set(p, 'NO_LONGER_DUE');
  const archived = personNos.filter((p) => !skipped.has(p));
  if (archived.length === 0) return { archived, skipped };
  // As char(10), like the column: a text[] would compare every row's 宛名番号 as text, past the index.
  const mine = sql<boolean>`lg_code = ${lgCode} AND person_no = ANY(${textArray(archived, 'bpchar')})`;
  await moveRows(trx, 'resident_history', 'resident_history_archive', mine);
  await moveRows(trx, 'resident', 'resident_archive', mine);
  return { archived, skipped };
}

/** Moves issuance records whose every subject is archived, with their disposals. */
async function archiveIssuances(trx: Trx, lgCode: string): Promise<number> {
  await allowDelete(trx);
  const { rows } = await sql<{ issuance_id: number }>`
    SELECT i.issuance_id FROM issuance i
    WHERE i.lg_code = ${lgCode}
      AND NOT EXISTS (
        SELECT 1 FROM unnest(i.subject_persons) AS s(person_no)
        WHERE NOT EXISTS (SELECT 1 FROM resident_archive a WHERE a.lg_code = i.lg_code AND a.person_no = s.person_no))`.execute(
    trx,
  );
  if (rows.length === 0) return 0;
  const ids = sql`${`{${rows.map((r) => r.issuance_id).join(',')}}`}::bigint[]`;
  const where = sql<boolean>`lg_code = ${lgCode} AND issuance_id = ANY(${ids})`;
  // Disposals first: they refer to the live issuance.
  await moveRows(trx, 'issuance_disposal', 'issuance_disposal_archive', where);
  return moveRows(trx, 'issuance', 'issuance_archive', where);
}

/** `jumin archive --dry-run` / `--run`. */
export async function runArchive(
  deps: ArchiveDeps,
  actor: Actor,
  options: { dryRun: boolean },
): Promise<ArchiveReport> {
  requirePermission(actor, 'batch');
  const lgCode = actor.lgCode;
  const runOn = deps.clock.today();
  const removedBefore = archiveCutoff(runOn);
  const ctx = { clock: deps.clock, monitoring: deps.monitoring };
  return withLifecycleLock(deps.db, lgCode, async (conn) => {
    const candidates = await findArchiveCandidates(conn, lgCode, runOn);
    const items: ArchiveItemResult[] = [];
    let issuancesArchived = 0;
    let ok = true;
    if (options.dryRun) {
      items.push(...candidates.map((c) => ({ ...c, outcome: 'wouldArchive' as const })));
    } else {
      const size = deps.batchSize ?? DEFAULT_BATCH_SIZE;
      for (let i = 0; i < candidates.length; i += size) {
        const batch = candidates.slice(i, i + size);
        try {
          const { skipped } = await conn.transaction().execute((trx) =>
            archiveBatch(
              trx,
              lgCode,
              runOn,
              batch.map((c) => c.personNo),
              deps.clock.now(),
            ),
          );
          for (const c of batch) {
            const reason = skipped.get(c.personNo);
            items.push(reason ? { ...c, outcome: 'skipped', reason } : { ...c, outcome: 'archived' });
          }
        } catch (e) {
          ok = false;
          const code = (e as { code?: unknown }).code;
          const reason = typeof code === 'string' ? code : 'ARCHIVE_FAILED';
          items.push(...batch.map((c) => ({ ...c, outcome: 'failed' as const, reason })));
        }
      }
      issuancesArchived = await conn.transaction().execute((trx) => archiveIssuances(trx, lgCode));
    }
    const count = (o: ArchiveItemResult['outcome']) => items.filter((i) => i.outcome === o).length;
    const accessLogSeq = await conn.transaction().execute(async (trx) => {
      const { seq } = await appendAccessLog(
        trx,
        {
          lgCode,
          staffId: actor.staffId,
          terminalId: actor.terminalId,
          function: 'batch',
          outcome: ok ? 'success' : 'failed',
          details: {
            job: 'archive',
            dryRun: options.dryRun,
            removedBefore,
            candidates: candidates.length,
            archived: count('archived'),
            skipped: count('skipped'),
            failed: count('failed'),
            issuancesArchived,
          },
        },
        ctx,
      );
      if (!options.dryRun && ok) {
        await recordRun(trx, {
          lgCode,
          job: 'archive',
          period: Number(runOn.slice(0, 4)),
          finishedAt: deps.clock.now(),
          staffId: actor.staffId,
          persons: count('archived'),
          accessLogSeq: seq,
        });
      }
      return seq;
    });
    return {
      lgCode,
      runOn,
      removedBefore,
      dryRun: options.dryRun,
      items,
      issuancesArchived,
      accessLogSeq,
      ok,
    };
  });
}

/** Whether this calendar year's archive run has been done (the yearly timer asks before running). */
export async function archiveDone(db: Executor, lgCode: string, year: number): Promise<boolean> {
  return (await findRun(db, lgCode, 'archive', year)) !== undefined;
}

/**
 * Brings an archived person back to the live tables (with the issuances naming them), so that a change —
 * a correction of the 除票, or a cancellation restoring the person — can be entered. The next yearly run
 * archives them again if they are still removed.
 */
export async function restoreFromArchive(
  db: Db,
  actor: Actor,
  personNoRaw: string,
  ctx: { clock: Clock; monitoring: MonitoringConfig },
): Promise<void> {
  requirePermission(actor, 'batch');
  const personNo = parsePersonNo(personNoRaw);
  await db.transaction().execute(async (trx) => {
    await allowDelete(trx);
    const where = sql<boolean>`lg_code = ${actor.lgCode} AND person_no = ${personNo}`;
    if ((await moveRows(trx, 'resident_archive', 'resident', where)) === 0) {
      throw new NotFoundError(
        'ARCHIVED_PERSON_NOT_FOUND',
        '指定された宛名番号の方は除票の保存領域にありません。',
      );
    }
    await moveRows(trx, 'resident_history_archive', 'resident_history', where);
    const issuances = sql<boolean>`lg_code = ${actor.lgCode} AND subject_persons @> ${textArray([personNo])}`;
    const { rows } = await sql<{
      issuance_id: number;
    }>`SELECT issuance_id FROM issuance_archive WHERE ${issuances}`.execute(trx);
    if (rows.length > 0) {
      const ids = sql`${`{${rows.map((r) => r.issuance_id).join(',')}}`}::bigint[]`;
      const byId = sql<boolean>`lg_code = ${actor.lgCode} AND issuance_id = ANY(${ids})`;
      await moveRows(trx, 'issuance_archive', 'issuance', byId);
      await moveRows(trx, 'issuance_disposal_archive', 'issuance_disposal', byId);
    }
    await appendAccessLog(
      trx,
      {
        lgCode: actor.lgCode,
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        function: 'batch',
        targetPersons: [personNo],
        outcome: 'success',
        details: { job: 'archiveRestore', issuances: rows.length },
      },
      ctx,
    );
  });
}
