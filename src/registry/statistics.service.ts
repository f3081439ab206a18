/**
 * Annual statistics (住民基本台帳関係年報) for a municipality: permission `batch`, one repeatable-read
 * snapshot for the aggregates (so stock and flows see the same register; on PostgreSQL shared with two more
 * connections through pg_export_snapshot) and the access-log entry (function 'batch', details {job:
 * 'statistics', …}: dates and totals only, no personal data).
 */
import type { Db } from '../db/index.js';
import { DomainError, requirePermission, type Actor, type Clock } from '../shared/index.js';
import { logAccess, type AuditSettings } from './access.js';
import { parseInput } from './parse.js';
import type { Trx } from './resident.repository.js';
import * as repo from './statistics.repository.js';
import {
  FLOW_REASONS,
  StatisticsQuery,
  buildStatistics,
  resolvePeriod,
  type AnnualStatistics,
} from './statistics.js';

export interface StatisticsOptions {
  /**
   * PostgreSQL: the three aggregates (persons, households, flows) run side by side on three connections
   * reading one exported snapshot. The embedded database has one connection: one after another.
   */
  parallel?: boolean;
}

export class StatisticsService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditSettings,
    private readonly options: StatisticsOptions = {},
  ) {}

  private get clock(): Clock {
    return this.audit.clock;
  }

  /** The figures as of `asOf` (default today) and the flows over [from, to] (default the year before). */
  async annualStatistics(actor: Actor, raw: StatisticsQuery = {}): Promise<AnnualStatistics> {
    try {
      requirePermission(actor, 'batch');
      const query = parseInput(StatisticsQuery, raw);
      const period = resolvePeriod(query, this.clock.today());
      return await this.db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          await repo.tuneForAggregates(trx);
          const lg = actor.lgCode;
          const [population, households, flows] = await this.inOneSnapshot(trx, [
            (t) => repo.populationAsOf(t, lg, period.asOf),
            (t) => repo.householdsAsOf(t, lg, period.asOf),
            (t) => repo.flowsBetween(t, lg, period.from, period.to, FLOW_REASONS),
          ] as const);
          const stats = buildStatistics(lg, period, population, households, flows);
          await logAccess(trx, this.audit, actor, {
            function: 'batch',
            outcome: 'success',
            details: {
              job: 'statistics',
              ...period,
              population: stats.population.total.total.total,
              households: stats.households.total,
            },
          });
          return stats;
        });
    } catch (e) {
      if (e instanceof DomainError) {
        await this.db.transaction().execute((trx) =>
          logAccess(trx, this.audit, actor, {
            function: 'batch',
            outcome: 'refused',
            details: { job: 'statistics', code: e.code },
          }),
        );
      }
      throw e;
    }
  }

  /**
   * Runs the reads on the transaction's snapshot: in it one after another, or (parallel) the first in it
   * and each other in a transaction of its own that imports its exported snapshot. Every read is awaited
   * before an error is thrown, so none is left running.
   */
  private async inOneSnapshot<T extends readonly unknown[]>(
    trx: Trx,
    reads: { readonly [K in keyof T]: (t: Trx) => Promise<T[K]> },
  ): Promise<T> {
    if (!this.options.parallel) {
      const out: unknown[] = [];
      for (const read of reads) out.push(await read(trx));
      return out as unknown as T;
    }
    const snapshot = await repo.exportSnapshot(trx);
    const [first, ...others] = reads;
    const settled = await Promise.allSettled([
      first!(trx),
      ...others.map((read) =>
        this.db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(async (t) => {
            await repo.importSnapshot(t, snapshot);
            await repo.tuneForAggregates(t);
            return read(t);
          }),
      ),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
  }
}

/** The annual statistics in one call (for benchmarks and scripts): see StatisticsService. */
export async function annualStatistics(
  db: Db,
  audit: AuditSettings,
  actor: Actor,
  query: StatisticsQuery = {},
  options: StatisticsOptions = {},
): Promise<AnnualStatistics> {
  return new StatisticsService(db, audit, options).annualStatistics(actor, query);
}
