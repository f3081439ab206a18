/**
 * The operator's entry point: `jumin start`, `jumin serve`, `jumin migrate`, `jumin seed`, `jumin staff …`,
 * `jumin audit …`, `jumin backup …`, `jumin restore`, `jumin keys …`, `jumin purge …`, `jumin archive …`,
 * `jumin populate`.
 */
import { Command } from 'commander';
import pino from 'pino';
import { buildApp } from './app.js';
import { raiseSupportMeasureAlerts } from './protection/index.js';
import { openKeyring, registerKeyCommands, type Keyring } from './keys/index.js';
import {
  evaluatePeriodicRules,
  loadOrCreateAuditKey,
  registerAuditCommands,
  startCheckpointTimer,
} from './audit/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrateDown, migrateToLatest, openDatabase, type DatabaseHandle } from './db/index.js';
import { locationsFor, registerBackupCommands, startDailyBackup } from './lifecycle/index.js';
import {
  ChangeService,
  countResidents,
  ensureMunicipality,
  registerPopulationCommands,
  registerStatisticsCommands,
} from './registry/index.js';
import { seedDemoData } from './registry/demo-data.js';
import { systemActor, systemClock } from './shared/index.js';
import { registerStaffCommands, seedDemoStaff } from './staff/index.js';
import { registerLifecycleCommands, startLifecycleTimers } from './lifecycle/index.js';
import { registerLinkageCommands } from './linkage/index.js';

const DEMO_MUNICIPALITY_NAME = '架空市';
/** How often rules that need time to pass (searches not followed by any transaction) are evaluated. */
const PERIODIC_RULES_MS = 5 * 60_000;
/** How often support measures near or past their end raise alerts. */
const SUPPORT_MEASURE_ALERTS_MS = 6 * 60 * 60_000;
/** How often planned move-outs whose date has come are completed. */
const DUE_MOVE_OUTS_MS = 60 * 60_000;

async function withDatabase<T>(config: Config, work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = await openDatabase(config);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

function services(config: Config, handle: DatabaseHandle, keyring: Keyring) {
  const key = loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
  const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: key.criteriaKey };
  return {
    key,
    changes: new ChangeService(handle.preparedDb ?? handle.db, systemClock, audit, keyring, {
      numbering: handle.autonomous,
    }),
  };
}

/** Demo residents into an empty register, and the demo staff accounts (idempotent). Never in production. */
async function seedDemo(
  config: Config,
  handle: DatabaseHandle,
  keyring: Keyring,
  log: pino.Logger,
): Promise<void> {
  await ensureMunicipality(handle.db, config.lgCode, DEMO_MUNICIPALITY_NAME);
  const staff = await seedDemoStaff(handle.db, config.lgCode, systemClock, config, keyring);
  if (staff.created.length > 0) log.info({ created: staff.created }, 'demo staff accounts created');
  if ((await countResidents(handle.db, config.lgCode)) > 0) return;
  const result = await seedDemoData(services(config, handle, keyring).changes, systemActor(config.lgCode), {
    today: systemClock.today(),
  });
  log.info(result, 'demo data seeded');
}

async function serve(config: Config, options: { seed: boolean }): Promise<void> {
  const log = pino({ level: config.logLevel });
  const handle = await openDatabase(config);
  const applied = await migrateToLatest(handle.db);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  await ensureMunicipality(handle.db, config.lgCode, DEMO_MUNICIPALITY_NAME);
  const keyring = await openKeyring(handle.db, config);
  // Unwrap (or create) the municipality's data keys now: a wrong master key stops the start, not a request.
  await keyring.forMunicipality(config.lgCode);
  if (options.seed) await seedDemo(config, handle, keyring, log);
  const { key, changes } = services(config, handle, keyring);
  const batch = systemActor(config.lgCode);
  const completeDueMoveOuts = async () => {
    const due = await changes.completeDueMoveOuts(batch);
    if (due.length > 0) log.info({ removed: due.length }, 'planned move-outs completed');
  };
  await completeDueMoveOuts();

  const app = await buildApp({
    config,
    db: handle.db,
    preparedDb: handle.preparedDb,
    numbering: handle.autonomous,
    auditKey: key,
    keyring,
    logger: { level: config.logLevel },
  });
  // Errors of background work are logged by name only: their messages may carry data.
  const onError = (what: string) => (e: unknown) =>
    log.error({ err: { name: e instanceof Error ? e.name : 'unknown' } }, `${what} failed`);
  const stopCheckpoints = startCheckpointTimer({
    db: handle.db,
    key,
    clock: systemClock,
    minutes: config.audit.checkpointMinutes,
    onError: onError('audit checkpoint'),
  });
  const timers = [
    setInterval(() => {
      evaluatePeriodicRules(handle.db, config.lgCode, {
        clock: systemClock,
        monitoring: config.monitoring,
      }).catch(onError('periodic monitoring'));
    }, PERIODIC_RULES_MS),
    setInterval(() => void completeDueMoveOuts().catch(onError('move-out completion')), DUE_MOVE_OUTS_MS),
    setInterval(() => {
      raiseSupportMeasureAlerts(handle.db, config.lgCode, {
        clock: systemClock,
        monitoring: config.monitoring,
      }).catch(onError('support-measure alerts'));
    }, SUPPORT_MEASURE_ALERTS_MS),
  ];
  for (const t of timers) t.unref();
  // The daily backup, in-process (the embedded database is single-process); failures are in the access
  // log and raised as audit alerts by the job, and logged here by code only.
  const stopBackups = startDailyBackup({
    handle,
    locations: locationsFor(config),
    dailyAt: config.backup.dailyAt,
    ctx: {
      keys: keyring.provider,
      clock: systemClock,
      monitoring: config.monitoring,
      terminalId: 'server',
    },
    onDone: (run) => log.info({ file: run.name, rows: run.rows, sha256: run.sha256 }, 'daily backup written'),
    onError: (e) =>
      log.error(
        { code: e instanceof Error && 'code' in e ? String(e.code) : 'unknown' },
        'daily backup failed',
      ),
  });
  // Yearly: the removed-records archive (JUMIN_ARCHIVE_MONTH) and the purge (October); every minute:
  // expired transient items erased.
  const stopLifecycle = startLifecycleTimers({
    db: handle.db,
    clock: systemClock,
    lgCode: config.lgCode,
    auditKey: key,
    monitoring: config.monitoring,
    archiveMonth: config.lifecycle.archiveMonth,
    backupRetentionDays: config.backup.retentionDays,
    onRun: (job, summary) => log.info({ job, ...summary }, 'lifecycle job done'),
    onError,
  });

  const close = async () => {
    stopLifecycle();
    for (const t of timers) clearInterval(t);
    await stopBackups();
    await stopCheckpoints();
    await app.close();
    await handle.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
  await app.listen({ port: config.port, host: config.host });
  log.info({ url: `http://${config.host}:${config.port}/` }, 'Jumin is serving');
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('jumin').description('Jumin 住民記録システム: the operator command');

  program
    .command('serve')
    .description('apply migrations and serve the HTTP API')
    .action(() => serve(loadConfig(), { seed: false }));

  program
    .command('start')
    .description('migrate, seed the demo city and demo staff (not in production), and serve')
    .action(async () => {
      const config = loadConfig();
      await serve(config, { seed: config.env !== 'production' });
    });

  program
    .command('migrate')
    .description('apply pending migrations (or revert the latest with --down)')
    .option('--down', 'revert the latest migration')
    .action(async (opts: { down?: boolean }) => {
      const config = loadConfig();
      const ran = await withDatabase(config, (h) => (opts.down ? migrateDown(h.db) : migrateToLatest(h.db)));
      console.log(ran.length > 0 ? ran.join('\n') : 'nothing to migrate');
    });

  program
    .command('seed')
    .description(
      'load the demo city into an empty database and create the demo staff (refused in production)',
    )
    .action(async () => {
      const config = loadConfig();
      if (config.env === 'production') throw new ConfigError('demo data is refused when NODE_ENV=production');
      await withDatabase(config, async (h) => {
        await migrateToLatest(h.db);
        await seedDemo(config, h, await openKeyring(h.db, config), pino({ level: config.logLevel }));
      });
    });

  registerStaffCommands(program, {
    loadConfig: () => loadConfig(),
    openDatabase,
    migrateToLatest,
    ensureMunicipality: (db, lgCode) => ensureMunicipality(db, lgCode, DEMO_MUNICIPALITY_NAME),
  });
  registerAuditCommands(program, { loadConfig: () => loadConfig(), openDatabase });
  registerBackupCommands(program, { loadConfig: () => loadConfig(), openDatabase });
  registerLifecycleCommands(program, { loadConfig: () => loadConfig(), openDatabase, migrateToLatest });
  registerKeyCommands(program, { loadConfig: () => loadConfig(), openDatabase, migrateToLatest });
  registerPopulationCommands(program, { loadConfig: () => loadConfig(), openDatabase, migrateToLatest });
  registerStatisticsCommands(program, { loadConfig: () => loadConfig(), openDatabase, migrateToLatest });
  registerLinkageCommands(program, { loadConfig: () => loadConfig(), openDatabase, migrateToLatest });

  await program.parseAsync(argv);
}
