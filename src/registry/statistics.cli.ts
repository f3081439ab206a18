/**
 * `jumin stats [--as-of D] [--from D --to D] [--lg CODE] [--operator ID] [--json]`: the annual statistics
 * (住民基本台帳関係年報) as a readable table, or as JSON. Logged like every batch run.
 */
import type { Command } from 'commander';
import { loadOrCreateAuditKey } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { PERMISSIONS, systemClock, type Actor, type Clock } from '../shared/index.js';
import { formatStatistics } from './statistics.js';
import { StatisticsService } from './statistics.service.js';

export interface StatisticsCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<string[]>;
  print?: (text: string) => void;
  clock?: Clock;
}

interface StatsOptions {
  asOf?: string;
  from?: string;
  to?: string;
  lg?: string;
  operator?: string;
  json?: boolean;
}

const LG_CODE = /^\d{6}$/;
const OPERATOR = /^[A-Za-z0-9._-]{1,64}$/;

export function registerStatisticsCommands(program: Command, deps: StatisticsCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  program
    .command('stats')
    .description('住民基本台帳関係年報: population and households as of a day, changes over a period')
    .option('--as-of <date>', 'the day of the stock (YYYY-MM-DD); default today')
    .option('--from <date>', 'first day of the change period; default one year before --as-of')
    .option('--to <date>', 'last day of the change period; default the day before --as-of')
    .option('--lg <code>', 'municipality (団体コード); default JUMIN_LG_CODE')
    .option('--operator <staffId>', 'the staff id of the operator responsible (logged)')
    .option('--json', 'print the figures as JSON')
    .action(async (o: StatsOptions) => {
      if (o.lg !== undefined && !LG_CODE.test(o.lg)) throw new Error('--lg must be a 6-digit 団体コード');
      if (o.operator !== undefined && !OPERATOR.test(o.operator)) {
        throw new Error('--operator must be a staff id (letters, digits, . _ -)');
      }
      const config = deps.loadConfig();
      const handle = await deps.openDatabase(config);
      try {
        await deps.migrateToLatest(handle.db);
        const auditKey = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
        const clock = deps.clock ?? systemClock;
        const audit = { clock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
        const actor: Actor = {
          lgCode: o.lg ?? config.lgCode,
          staffId: o.operator ?? 'system',
          terminalId: 'cli',
          permissions: new Set(PERMISSIONS),
        };
        const stats = await new StatisticsService(handle.db, audit, {
          parallel: handle.kind === 'postgres',
        }).annualStatistics(actor, {
          ...(o.asOf !== undefined ? { asOf: o.asOf } : {}),
          ...(o.from !== undefined ? { from: o.from } : {}),
          ...(o.to !== undefined ? { to: o.to } : {}),
        });
        print(o.json ? JSON.stringify(stats, null, 2) : formatStatistics(stats));
      } finally {
        await handle.close();
      }
    });
}
