/**
 * `jumin backup` (make one now, copy it to the second location, apply retention), `jumin backup list`,
 * `jumin backup verify [file]`, `jumin backup drill [file]` and `jumin restore <file> --target-…`.
 *
 * The embedded database is a single process: with it, these commands may only run while the server is
 * stopped (the server itself makes the daily backup in-process). With PostgreSQL they run at any time.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import pg from 'pg';
import type { Config } from '../config.js';
import { openEmbedded, openPostgres, type DatabaseHandle, type Db } from '../db/index.js';
import { openKeyProvider, type KeyProvider } from '../keys/index.js';
import { isDomainError, systemClock, type Clock } from '../shared/index.js';
import {
  drillBackup,
  listBackups,
  restoreBackup,
  runBackup,
  verifyBackup,
  verifyBackupLogged,
  type BackupContext,
  type BackupLocations,
  type VerifiedBackup,
} from './backup.service.js';

export interface BackupCommandDeps {
  loadConfig: () => Config;
  openDatabase: (c: Config) => Promise<DatabaseHandle>;
  /** Where output goes (tests capture it). */
  print?: (text: string) => void;
  /** The key provider; by default the local provider of config.keys.masterKeyFile. */
  keys?: (c: Config) => KeyProvider | Promise<KeyProvider>;
  clock?: Clock;
}

const EMBEDDED_NOTE =
  '組み込みデータベースの場合はサーバーを停止してから実行してください（サーバー稼働中は毎日のバックアップをサーバー自身が行います）。';

export function registerBackupCommands(program: Command, deps: BackupCommandDeps): void {
  const print = deps.print ?? ((text: string) => console.log(text));
  const clock = deps.clock ?? systemClock;
  // The configured provider (local KEK file or the municipality's KMS), as the server's keyring uses.
  const keysOf = (c: Config) => deps.keys?.(c) ?? openKeyProvider(c);
  const contextOf = async (c: Config): Promise<BackupContext> => ({
    keys: await keysOf(c),
    clock,
    monitoring: c.monitoring,
    terminalId: 'cli',
  });
  const withDatabase = async <T>(c: Config, work: (h: DatabaseHandle) => Promise<T>): Promise<T> => {
    const handle = await deps.openDatabase(c);
    try {
      return await work(handle);
    } finally {
      await handle.close();
    }
  };

  const backup = program
    .command('backup')
    .description(
      `back up the whole database now into JUMIN_BACKUP_DIR, copy it to JUMIN_BACKUP_OFFSITE_DIR and delete backups past retention. ${EMBEDDED_NOTE}`,
    )
    .action(async () => {
      const config = deps.loadConfig();
      const run = await withDatabase(config, async (h) =>
        runBackup(h, locationsFor(config), await contextOf(config)),
      );
      print(`バックアップを作成しました: ${run.file}`);
      print(`第二の保管場所へ複製しました: ${run.offsiteFile}`);
      print(`表 ${run.tables.length} / 行 ${run.rows} / ${run.bytes} バイト / SHA-256 ${run.sha256}`);
      const deleted = [...run.deleted.primary, ...run.deleted.offsite].filter((n) => n.endsWith('.jbak'));
      if (deleted.length > 0) print(`保存期間を過ぎたバックアップを削除しました: ${deleted.length} 件`);
    });

  backup
    .command('list')
    .description('list the backups in both locations')
    .action(async () => {
      const config = deps.loadConfig();
      for (const [label, dir] of locationsOf(config)) {
        const listings = await listBackups(dir);
        print(`${label}: ${dir}（${listings.length} 件）`);
        for (const b of listings) {
          const flags = [
            b.hasChecksumFile ? '' : 'チェックサムファイルなし',
            b.createdAt ? '' : 'ヘッダー読取不可',
          ]
            .filter(Boolean)
            .join('、');
          print(`  ${b.name}  ${b.bytes} バイト${flags ? `  （${flags}）` : ''}`);
        }
      }
    });

  backup
    .command('verify')
    .description(
      'check integrity and decryptability of a backup (or of every backup in both locations); exit code 1 when one is refused',
    )
    .argument('[file]', 'a backup file (a bare name is looked up in both locations)')
    .option('--no-log', 'do not record the check in the access log (e.g. on a machine without the database)')
    .action(async (file: string | undefined, options: { log: boolean }) => {
      const config = deps.loadConfig();
      const ctx = await contextOf(config);
      const files = file
        ? [resolveBackup(config, file)]
        : (await Promise.all(locationsOf(config).map(([, dir]) => listBackups(dir))))
            .flat()
            .map((b) => b.file);
      if (files.length === 0) print('検査するバックアップがありません。');
      const check = async (db: Db | undefined) => {
        let refused = 0;
        for (const f of files) {
          try {
            const v = db ? await verifyBackupLogged(db, f, ctx) : await verifyBackup(f, ctx.keys);
            print(describeVerified(v));
          } catch (e) {
            if (!isDomainError(e)) throw e;
            refused += 1;
            print(`NG  ${f}: [${e.code}] ${e.message}`);
          }
        }
        if (refused > 0) process.exitCode = 1;
      };
      if (options.log) await withDatabase(config, (h) => check(h.db));
      else await check(undefined);
    });

  backup
    .command('drill')
    .description(
      `restore a backup (the latest in JUMIN_BACKUP_DIR by default) into a scratch database and compare row counts and content checksums with the source; exit code 1 when they differ. ${EMBEDDED_NOTE}`,
    )
    .argument('[file]', 'a backup file (a bare name is looked up in both locations)')
    .option(
      '--scratch-database-url <url>',
      'an empty PostgreSQL database to restore into (default: a temporary database on the same server, or an in-memory embedded one)',
    )
    .action(async (file: string | undefined, options: { scratchDatabaseUrl?: string }) => {
      const config = deps.loadConfig();
      const target = file ? resolveBackup(config, file) : (await listBackups(config.backup.dir)).at(-1)?.file;
      if (!target) throw new Error(`no backup in ${config.backup.dir}: run \`jumin backup\` first`);
      const ctx = await contextOf(config);
      const result = await withDatabase(config, (source) =>
        withScratch(config, options.scratchDatabaseUrl, (scratch) =>
          drillBackup(target, scratch, source.db, ctx),
        ),
      );
      print(`復元訓練: ${result.name}`);
      for (const t of result.tables) {
        print(
          `  ${t.match ? 'OK' : 'NG'}  ${t.name}: 元 ${t.sourceRows} 行 / 復元 ${t.restoredRows ?? '-'} 行`,
        );
      }
      if (result.ok) {
        print(
          `合格: ${result.tables.length} 表、${result.rows} 行の件数とチェックサムが元のデータベースと一致しました。`,
        );
      } else {
        print(`不合格${result.code ? ` [${result.code}]` : ''}: 件数またはチェックサムが一致しません。`);
        process.exitCode = 1;
      }
    });

  program
    .command('restore')
    .description(
      'rebuild a fresh, empty database from a backup (refused when the target holds data); counts and checksums are compared before it commits',
    )
    .argument('<file>', 'a backup file (a bare name is looked up in both locations)')
    .option('--target-database-url <url>', 'an empty PostgreSQL database')
    .option('--target-data-dir <dir>', 'a new folder for an embedded database (must not exist or be empty)')
    .action(async (file: string, options: { targetDatabaseUrl?: string; targetDataDir?: string }) => {
      const config = deps.loadConfig();
      if (!options.targetDatabaseUrl === !options.targetDataDir) {
        throw new Error('give exactly one of --target-database-url and --target-data-dir');
      }
      const source = resolveBackup(config, file);
      if (options.targetDataDir) {
        const dir = path.resolve(options.targetDataDir);
        if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
          throw new Error(`--target-data-dir ${dir} is not empty: restore into a new folder`);
        }
      }
      const target = options.targetDatabaseUrl
        ? openPostgres(options.targetDatabaseUrl, { max: 2 })
        : await openEmbedded(path.resolve(options.targetDataDir!));
      try {
        const r = await restoreBackup(source, target.db, await contextOf(config));
        print(`復元しました: ${r.name}（作成 ${r.createdAt}）`);
        print(`表 ${r.actual.length} / 行 ${r.rows}: 件数とチェックサムはすべてバックアップと一致しました。`);
      } finally {
        await target.close();
      }
    });
}

/** The backup locations of the configuration; the second one is created when missing only outside production. */
export function locationsFor(config: Config): BackupLocations {
  return { ...config.backup, createOffsiteDir: config.env !== 'production' };
}

function locationsOf(config: Config): [string, string][] {
  return [
    ['主保管場所', config.backup.dir],
    ['第二保管場所', config.backup.offsiteDir],
  ];
}

/** A path as given, or a bare backup name found in the primary, then the second location. */
function resolveBackup(config: Config, file: string): string {
  if (file.includes(path.sep) || fs.existsSync(file)) return path.resolve(file);
  for (const dir of [config.backup.dir, config.backup.offsiteDir]) {
    const candidate = path.join(dir, file);
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.resolve(file);
}

function describeVerified(v: VerifiedBackup): string {
  const checksum =
    v.checksumFile === 'ok' ? 'チェックサム一致' : 'チェックサムファイルなし（認証タグで検査済み）';
  return `OK  ${v.file}: 作成 ${v.createdAt}、表 ${v.tables.length}、行 ${v.rows}、${checksum}、鍵 ${v.kekId}`;
}

/**
 * A scratch database for the drill, dropped afterwards: the given URL; for a PostgreSQL source a new
 * database `<name>_drill_<random>` on the same server; for the embedded source an in-memory one.
 */
async function withScratch<T>(
  config: Config,
  url: string | undefined,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  if (url) {
    const handle = openPostgres(url, { max: 2 });
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }
  const database = config.database;
  if (database.kind === 'embedded') {
    const handle = await openEmbedded(undefined);
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  }
  const server = new URL(database.url);
  const base = decodeURIComponent(server.pathname.slice(1)) || 'postgres';
  const name = `${base}_drill_${randomBytes(4).toString('hex')}`.slice(0, 63);
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  try {
    server.pathname = `/${encodeURIComponent(name)}`;
    const handle = openPostgres(server.toString(), { max: 2 });
    try {
      return await work(handle.db);
    } finally {
      await handle.close();
    }
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}"`);
  }
}
