/**
 * Annual statistics (住民基本台帳関係年報) for a municipality: permission `batch`, one repeatable-read
 * transaction for the aggregates (so stock and flows see the same register) and the access-log entry
 * (function 'batch', details {job: 'statistics', …}: dates and totals only, no personal data).
 */
import type { Db } from '../db/index.js';
import { DomainError, requirePermission, type Actor, type Clock } from '../shared/index.js';
import { logAccess, type AuditSettings } from './access.js';
import { parseInput } from './parse.js';
import * as repo from './statistics.repository.js';
import {
  FLOW_REASONS,
  StatisticsQuery,
  buildStatistics,
  resolvePeriod,
  type AnnualStatistics,
} from './statistics.js';

export class StatisticsService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditSettings,
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
          const stock = await repo.stockAsOf(trx, actor.lgCode, period.asOf);
          const flows = await repo.flowsBetween(trx, actor.lgCode, period.from, period.to, FLOW_REASONS);
          const stats = buildStatistics(actor.lgCode, period, stock.population, stock.households, flows);
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
}

/** The annual statistics in one call (for benchmarks and scripts): see StatisticsService. */
export async function annualStatistics(
  db: Db,
  audit: AuditSettings,
  actor: Actor,
  query: StatisticsQuery = {},
): Promise<AnnualStatistics> {
  return new StatisticsService(db, audit).annualStatistics(actor, query);
}
