/**
 * `jumin purge --dry-run | --run --operator ID [--lg CODE]` and
 * `jumin archive --dry-run | --run [--lg CODE]`, `jumin archive --restore 宛名番号 --operator ID`.
 *
 * The purge's dry run prints the 宛名番号 and retention start of each person a run would delete (no names);
 * the run prints the counts, the verification and the signed deletion certificate, and exits with code 1
 * when a batch failed or the scan still found traces. Both need the database user to be allowed to delete
 * (the schema owner, not the restricted role jumin_app).
 */
import type { Command } from 'commander';
import { entryNo, loadOrCreateAuditKey } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { PERMISSIONS, systemClock, type Actor, type Clock } from '../shared/index.js';
import { restoreFromArchive, runArchive } from './archive.job.js';
import { runPurge } from './purge.job.js';

export interface LifecycleCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  migrateToLatest: (db: DatabaseHandle['db']) => Promise<string[]>;
  print?: (text: string) => void;
  /** Tests run the jobs on a fixed day. */
  clock?: Clock;
}

interface JobOptions {
  dryRun?: boolean;
  run?: boolean;
  lg?: string;
  operator?: string;
  restore?: string;
}

const LG_CODE = /^\d{6}$/;
const OPERATOR = /^[A-Za-z0-9._-]{1,64}$/;

function operatorActor(lgCode: string, operator: string | undefined): Actor {
  if (operator !== undefined && !OPERATOR.test(operator)) {
    throw new Error('--operator must be a staff id (letters, digits, . _ -)');
  }
  return { lgCode, staffId: operator ?? 'system', terminalId: 'cli', permissions: new Set(PERMISSIONS) };
}

function checkMode(o: JobOptions, extra = false): 'dryRun' | 'run' | 'restore' {
  const modes = [o.dryRun === true, o.run === true, extra && o.restore !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new Error('give exactly one of --dry-run or --run');
  if (o.lg !== undefined && !LG_CODE.test(o.lg)) throw new Error('--lg must be a 6-digit 団体コード');
  return o.dryRun ? 'dryRun' : o.run ? 'run' : 'restore';
}

export function registerLifecycleCommands(program: Command, deps: LifecycleCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  const clock = deps.clock ?? systemClock;

  async function withDb<T>(work: (config: Config, handle: DatabaseHandle) => Promise<T>): Promise<T> {
    const config = deps.loadConfig();
    const handle = await deps.openDatabase(config);
    try {
      await deps.migrateToLatest(handle.db);
      return await work(config, handle);
    } finally {
      await handle.close();
    }
  }

  program
    .command('purge')
    .description(
      '150年を経過した除票の消去: list (--dry-run) or delete (--run) with a signed deletion certificate',
    )
    .option('--dry-run', 'list the persons a run would delete; delete nothing')
    .option('--run', 'delete them, verify, and write the deletion certificate into the access log')
    .option('--operator <staffId>', 'the staff id of the operator responsible (required with --run)')
    .option('--lg <code>', 'municipality (団体コード); default JUMIN_LG_CODE')
    .action(async (o: JobOptions) => {
      const mode = checkMode(o);
      if (mode === 'run' && !o.operator) throw new Error('--run needs --operator <staffId>');
      await withDb(async (config, handle) => {
        const actor = operatorActor(o.lg ?? config.lgCode, o.operator);
        const auditKey = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
        const report = await runPurge(
          {
            db: handle.db,
            clock,
            auditKey,
            monitoring: config.monitoring,
            backupRetentionDays: config.backup.retentionDays,
          },
          actor,
          { dryRun: mode === 'dryRun' },
        );
        print(
          `団体 ${report.lgCode}: ${report.fiscalYear}年度の消去（保存起算日が ${report.removedBefore} より前の除票）`,
        );
        for (const item of report.items) {
          print(
            `  ${item.personNo}  保存起算日 ${item.retentionStart}  ${item.outcome}${item.error ? ` ${item.error}` : ''}`,
          );
        }
        if (report.dryRun) {
          print(`対象 ${report.items.length} 名（試行: 何も消去していません）。`);
          return;
        }
        const purged = report.items.filter((i) => i.outcome === 'purged').length;
        print(`消去 ${purged} 名。削除した行: ${JSON.stringify(report.rowsDeleted)}`);
        print(`他の方と共有していたため編集した行: ${JSON.stringify(report.rowsRedacted)}`);
        const traces = report.verification?.traces ?? [];
        print(
          traces.length === 0
            ? `確認: ${report.verification?.tablesScanned ?? 0} 表を走査し、痕跡はありません。`
            : `確認: 痕跡が残っています: ${traces.map((t) => `${t.table} (${t.rows})`).join(', ')}`,
        );
        print(
          `消去証明書（アクセスログ #${report.accessLogSeq === undefined ? '-' : entryNo(report.accessLogSeq)}）:`,
        );
        print(JSON.stringify(report.signed, null, 2));
        if (!report.ok) process.exitCode = 1;
      });
    });

  program
    .command('archive')
    .description('5年を経過した除票を保存領域へ移す (--dry-run / --run), or bring one back (--restore)')
    .option('--dry-run', 'list the persons a run would move; move nothing')
    .option('--run', 'move them with their history and issuance records')
    .option('--restore <personNo>', 'bring an archived person back to the live tables (to enter a change)')
    .option('--operator <staffId>', 'the staff id of the operator responsible')
    .option('--lg <code>', 'municipality (団体コード); default JUMIN_LG_CODE')
    .action(async (o: JobOptions) => {
      const mode = checkMode(o, true);
      await withDb(async (config, handle) => {
        const actor = operatorActor(o.lg ?? config.lgCode, o.operator);
        const ctx = { clock, monitoring: config.monitoring };
        if (mode === 'restore') {
          await restoreFromArchive(handle.db, actor, o.restore ?? '', ctx);
          print('保存領域から戻しました。');
          return;
        }
        const report = await runArchive({ db: handle.db, ...ctx }, actor, { dryRun: mode === 'dryRun' });
        print(`団体 ${report.lgCode}: ${report.removedBefore} より前に消除された除票`);
        for (const item of report.items) {
          print(
            `  ${item.personNo}  消除日 ${item.removedOn}  ${item.outcome}${item.reason ? ` ${item.reason}` : ''}`,
          );
        }
        print(
          report.dryRun
            ? `対象 ${report.items.length} 名（試行: 何も移していません）。`
            : `移動 ${report.items.filter((i) => i.outcome === 'archived').length} 名、交付記録 ${report.issuancesArchived} 件。`,
        );
        if (!report.ok) process.exitCode = 1;
      });
    });
}
