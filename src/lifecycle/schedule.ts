/**
 * The yearly lifecycle jobs while serving: the removed-records archive in the configured month (default
 * June, never March or April), the purge in October. A timer looks every few hours; a job runs when its
 * month has come and the lifecycle_run table does not yet record it for the calendar year (archive) or the
 * fiscal year (purge) — so each runs once a year, resumes after a restart, and a failed purge (not
 * recorded) is tried again at the next look. Expired transient items are erased on a shorter timer.
 */
import type { AuditKey, MonitoringConfig } from '../audit/index.js';
import type { Db } from '../db/index.js';
import { dateParts, fiscalYearOf, systemActor, type Clock } from '../shared/index.js';
import { archiveDone, runArchive } from './archive.job.js';
import { purgeDone, runPurge } from './purge.job.js';
import { PURGE_MONTH } from './retention.js';
import { eraseExpiredTransientItems } from './transient.store.js';

/** How often the yearly jobs look whether their month has come. */
const YEARLY_LOOK_MS = 3 * 60 * 60_000;
/** How often expired transient items are erased. */
const TRANSIENT_SWEEP_MS = 60_000;

export interface LifecycleScheduleDeps {
  db: Db;
  clock: Clock;
  lgCode: string;
  auditKey: AuditKey;
  monitoring: MonitoringConfig;
  archiveMonth: number;
  backupRetentionDays?: number;
  /** Erase expired transient items every minute (default true). */
  transientSweep?: boolean;
  /** What ran, for the server's log (counts only). */
  onRun: (job: 'archive' | 'purge' | 'transientErase', summary: Record<string, number | boolean>) => void;
  onError: (job: string) => (e: unknown) => void;
}

/** Runs the yearly jobs that are due now; returns which ran. Exposed for tests and for the timer. */
export async function runDueLifecycleJobs(deps: LifecycleScheduleDeps): Promise<Array<'archive' | 'purge'>> {
  const today = deps.clock.today();
  const { year, month } = dateParts(today);
  const actor = systemActor(deps.lgCode);
  const ran: Array<'archive' | 'purge'> = [];
  if (month === deps.archiveMonth && !(await archiveDone(deps.db, deps.lgCode, year))) {
    const r = await runArchive({ db: deps.db, clock: deps.clock, monitoring: deps.monitoring }, actor, {
      dryRun: false,
    });
    deps.onRun('archive', { archived: r.items.filter((i) => i.outcome === 'archived').length, ok: r.ok });
    ran.push('archive');
  }
  if (month === PURGE_MONTH && !(await purgeDone(deps.db, deps.lgCode, fiscalYearOf(today)))) {
    const r = await runPurge(
      {
        db: deps.db,
        clock: deps.clock,
        auditKey: deps.auditKey,
        monitoring: deps.monitoring,
        ...(deps.backupRetentionDays ? { backupRetentionDays: deps.backupRetentionDays } : {}),
      },
      actor,
      { dryRun: false },
    );
    deps.onRun('purge', { purged: r.signed?.certificate.persons ?? 0, ok: r.ok });
    ran.push('purge');
  }
  return ran;
}

/** Starts the timers; returns a function that stops them. */
export function startLifecycleTimers(deps: LifecycleScheduleDeps): () => void {
  const yearly = () => void runDueLifecycleJobs(deps).catch(deps.onError('lifecycle jobs'));
  const timers = [setInterval(yearly, YEARLY_LOOK_MS)];
  if (deps.transientSweep !== false) {
    const ctx = { clock: deps.clock, monitoring: deps.monitoring };
    timers.push(
      setInterval(() => {
        eraseExpiredTransientItems(deps.db, ctx)
          .then((r) => {
            if (r.erased > 0) deps.onRun('transientErase', { erased: r.erased, vacuumed: r.vacuumed });
          })
          .catch(deps.onError('transient erase'));
      }, TRANSIENT_SWEEP_MS),
    );
  }
  for (const t of timers) t.unref();
  // A first look soon after start, so a server restarted in October does not wait three hours.
  const first = setTimeout(yearly, 60_000);
  first.unref();
  return () => {
    clearTimeout(first);
    for (const t of timers) clearInterval(t);
  };
}
