/**
 * The operator's entry point: `jumin serve`, `jumin migrate`, `jumin seed`, `jumin start`.
 */
import { Command } from 'commander';
import pino from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { migrateDown, migrateToLatest, openDatabase, type DatabaseHandle } from './db/index.js';
import { ChangeService, countResidents, ensureMunicipality, type Actor } from './registry/index.js';
import { seedDemoData } from './registry/demo-data.js';
import { systemClock } from './shared/index.js';

const DEMO_MUNICIPALITY_NAME = '架空市';

async function withDatabase<T>(config: Config, work: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = await openDatabase(config);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

/** The identity batch work acts as: the system itself, on the server's terminal. */
function systemActor(config: Config): Actor {
  return { lgCode: config.lgCode, staffId: 'system', terminalId: 'server' };
}

async function seedIfEmpty(config: Config, handle: DatabaseHandle, log: pino.Logger): Promise<void> {
  await ensureMunicipality(handle.db, config.lgCode, DEMO_MUNICIPALITY_NAME);
  if ((await countResidents(handle.db, config.lgCode)) > 0) return;
  const result = await seedDemoData(new ChangeService(handle.db, systemClock), systemActor(config), {
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
  if (options.seed) await seedIfEmpty(config, handle, log);
  const changes = new ChangeService(handle.db, systemClock);
  const due = await changes.completeDueMoveOuts(systemActor(config));
  if (due.length > 0) log.info({ removed: due.length }, 'planned move-outs completed');
  const app = await buildApp({ config, db: handle.db, logger: { level: config.logLevel } });
  const close = async () => {
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
    .description('migrate, seed demo data into an empty database (not in production), and serve')
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
    .description('load the demo data into an empty database (refused in production)')
    .action(async () => {
      const config = loadConfig();
      if (config.env === 'production') throw new ConfigError('demo data is refused when NODE_ENV=production');
      await withDatabase(config, async (h) => {
        await migrateToLatest(h.db);
        await seedIfEmpty(config, h, pino({ level: config.logLevel }));
      });
    });

  await program.parseAsync(argv);
}
