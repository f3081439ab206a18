/**
 * Backups of the whole database (embedded or PostgreSQL) through a Kysely handle: make one (a logical,
 * portable dump of one consistent snapshot, streamed), copy it to the second location, apply retention,
 * verify, restore into a fresh database, and the restore drill. Every act writes an access-log entry.
 */
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import { appendAccessLog, raiseAlert, type MonitoringConfig } from '../audit/index.js';
import { migrateToLatest, migrationNames, type Database, type DatabaseHandle, type Db } from '../db/index.js';
import type { KeyProvider } from '../keys/index.js';
import { DomainError, isDomainError, japanDateOf, type Clock } from '../shared/index.js';
import {
  BACKUP_FORMAT_VERSION,
  CHECKSUM_SUFFIX,
  ContentChecksum,
  DONE_LINE,
  END_LINE,
  SEQUENCE_LINE,
  TABLE_LINE,
  backupFileName,
  compareSummaries,
  expiredFiles,
  parseBackupFileName,
  type BackupHeader,
  type TableDifference,
  type TableSummary,
} from './backup.js';
import {
  backupErrors,
  checkChecksumFile,
  copyBackupFile,
  readBackupBody,
  readBackupHeader,
  writeBackupFile,
} from './backup.file.js';
import {
  MIGRATION_TABLES,
  appliedMigrations,
  clearTable,
  describeTables,
  freeSequences,
  insertRows,
  municipalityCodes,
  resetOwnedSequences,
  scanTable,
  setSequence,
  stableTextSettings,
  tablesWithRows,
  type TableInfo,
} from './backup.repository.js';

const SCAN_BATCH_ROWS = 1000;

/** What the acts need besides the database. */
export interface BackupContext {
  readonly keys: KeyProvider;
  readonly clock: Clock;
  readonly monitoring: MonitoringConfig;
  /** Where the act comes from, for the access log: `server` (the daily job) or `cli`. */
  readonly terminalId: string;
}

/** The two locations and how long each keeps backups (config.backup). */
export interface BackupLocations {
  readonly dir: string;
  readonly offsiteDir: string;
  readonly retentionDays: number;
  /**
   * Whether a missing second location may be created. Not in production: there it is a mount of another
   * data centre, and creating the folder when the mount is missing would put the copy on the local disk.
   */
  readonly createOffsiteDir?: boolean;
}

export interface BackupResult {
  readonly file: string;
  readonly name: string;
  readonly backupId: string;
  readonly createdAt: Date;
  /** SHA-256 of the whole file (also in `<file>.sha256`). */
  readonly sha256: string;
  readonly bytes: number;
  readonly tables: readonly TableSummary[];
  readonly rows: number;
}

export interface BackupRun extends BackupResult {
  readonly offsiteFile: string;
  /** Files retention deleted in each location. */
  readonly deleted: { readonly primary: readonly string[]; readonly offsite: readonly string[] };
}

const backupRunning = () =>
  new DomainError('BACKUP_RUNNING', '別のバックアップが実行中です。終了してからやり直してください。');

/**
 * Writes one backup of the whole database into `dir`: every table of the current schema (found in the
 * catalog, migration tables included) read in one repeatable-read snapshot, so the backup is consistent
 * while the system serves. On the embedded database the snapshot holds its single connection: requests
 * wait until the backup is written.
 */
export async function createBackup(
  handle: DatabaseHandle,
  dir: string,
  ctx: Pick<BackupContext, 'keys' | 'clock'>,
): Promise<BackupResult> {
  const backupId = randomBytes(8).toString('hex');
  const createdAt = ctx.clock.now();
  const name = backupFileName(createdAt, backupId);
  return handle.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const { rows: lock } = await sql<{ locked: boolean }>`
        SELECT pg_try_advisory_xact_lock(hashtext('jumin:backup')) AS locked`.execute(trx);
      if (!lock[0]?.locked) throw backupRunning();
      await stableTextSettings(trx);
      const migrations = await appliedMigrations(trx);
      const tables = await describeTables(trx);
      const summaries: TableSummary[] = [];
      let total = 0;
      async function* lines(): AsyncGenerator<string> {
        for (const table of tables) {
          yield `${TABLE_LINE}${JSON.stringify({ name: table.name })}\n`;
          const checksum = new ContentChecksum();
          for await (const batch of scanTable(trx, table.name, SCAN_BATCH_ROWS)) {
            let chunk = '';
            for (const row of batch) {
              checksum.add(row);
              chunk += `${row}\n`;
            }
            yield chunk;
          }
          const summary = { name: table.name, rows: checksum.rows, checksum: checksum.hex() };
          summaries.push(summary);
          total += summary.rows;
          yield `${END_LINE}${JSON.stringify(summary)}\n`;
        }
        for (const s of await freeSequences(trx)) yield `${SEQUENCE_LINE}${JSON.stringify(s)}\n`;
        yield `${DONE_LINE}${JSON.stringify({ tables: summaries.length, rows: total })}\n`;
      }
      const header: Omit<BackupHeader, 'kekId' | 'wrappedKey' | 'iv'> = {
        format: BACKUP_FORMAT_VERSION,
        backupId,
        createdAt: createdAt.toISOString(),
        source: handle.kind,
        migrations,
        compression: 'gzip',
        cipher: 'aes-256-gcm',
      };
      const written = await writeBackupFile(dir, name, header, ctx.keys, lines());
      return { ...written, backupId, createdAt, tables: summaries, rows: total };
    });
}

/**
 * The daily job and `jumin backup`: a backup in the primary location, a copy in the second location
 * checked against its SHA-256 there, then retention in each location that holds today's backup. Success
 * and failure go to the access log; a failure also raises an audit alert.
 */
export async function runBackup(
  handle: DatabaseHandle,
  locations: BackupLocations,
  ctx: BackupContext,
): Promise<BackupRun> {
  let made: BackupResult | undefined;
  try {
    made = await createBackup(handle, locations.dir, ctx);
    const today = ctx.clock.today();
    const primary = await applyRetention(locations.dir, today, locations.retentionDays);
    let offsiteFile: string;
    try {
      offsiteFile = await copyBackupFile(made.file, locations.offsiteDir, made.sha256, {
        create: locations.createOffsiteDir ?? false,
      });
    } catch (e) {
      throw new DomainError(
        'BACKUP_OFFSITE_FAILED',
        'バックアップを第二の保管場所へ複製できませんでした。保管場所（JUMIN_BACKUP_OFFSITE_DIR）の接続と空き容量を確認してください。',
        {
          file: made.name,
          reason: isDomainError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? 'unknown'),
        },
      );
    }
    const offsite = await applyRetention(locations.offsiteDir, today, locations.retentionDays);
    const run: BackupRun = { ...made, offsiteFile, deleted: { primary, offsite } };
    await logAct(handle.db, ctx, 'success', {
      action: 'backup',
      ...factsOf(made),
      offsite: true,
      deleted: primary.filter(isBackupName).length + offsite.filter(isBackupName).length,
    });
    return run;
  } catch (e) {
    await reportFailure(handle.db, ctx, 'backup', codeOf(e), made?.name);
    throw e;
  }
}

const isBackupName = (name: string) => parseBackupFileName(name) !== undefined;

/** Deletes the backups (and their `.sha256` files) older than the retention, by the date in their names. */
export async function applyRetention(dir: string, today: string, retentionDays: number): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const expired = expiredFiles(names, today as Parameters<typeof expiredFiles>[1], retentionDays);
  for (const name of expired) await fsp.rm(path.join(dir, name), { force: true });
  return expired;
}

export interface BackupListing {
  readonly name: string;
  readonly file: string;
  readonly date: string;
  readonly backupId: string;
  readonly bytes: number;
  readonly hasChecksumFile: boolean;
  /** From the header; undefined when the header cannot be read. */
  readonly createdAt: string | undefined;
  readonly source: string | undefined;
  readonly kekId: string | undefined;
}

/** The backups of a folder, oldest first (by name, which starts with the date). */
export async function listBackups(dir: string): Promise<BackupListing[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const set = new Set(names);
  const listings: BackupListing[] = [];
  for (const name of names.sort()) {
    const parsed = parseBackupFileName(name);
    if (!parsed) continue;
    const file = path.join(dir, name);
    const { size } = await fsp.stat(file);
    let header: BackupHeader | undefined;
    try {
      header = (await readBackupHeader(file)).header;
    } catch {
      header = undefined;
    }
    listings.push({
      name,
      file,
      date: parsed.date,
      backupId: parsed.backupId,
      bytes: size,
      hasChecksumFile: set.has(`${name}${CHECKSUM_SUFFIX}`),
      createdAt: header?.createdAt,
      source: header?.source,
      kekId: header?.kekId,
    });
  }
  return listings;
}

export interface VerifiedBackup {
  readonly file: string;
  readonly name: string;
  readonly backupId: string;
  readonly createdAt: string;
  readonly source: string;
  readonly kekId: string;
  readonly migrations: readonly string[];
  readonly sha256: string;
  /** 'missing' when there is no `.sha256` file: the GCM tag still proved the content. */
  readonly checksumFile: 'ok' | 'missing';
  readonly tables: readonly TableSummary[];
  readonly rows: number;
}

/**
 * Checks a backup without a database: its `.sha256` file, format, that this deployment's key provider
 * unwraps its file key, the GCM tag over header and body, and every table's count and checksum. Refuses
 * with BACKUP_NOT_FOUND, BACKUP_FORMAT_INVALID, BACKUP_CHECKSUM_MISMATCH, BACKUP_KEY_REFUSED or
 * BACKUP_CORRUPT.
 */
export async function verifyBackup(file: string, keys: KeyProvider): Promise<VerifiedBackup> {
  const opened = await readBackupHeader(file);
  const { status, sha256 } = await checkChecksumFile(file);
  const body = await readBackupBody(file, opened, keys);
  const h = opened.header;
  return {
    file,
    name: path.basename(file),
    backupId: h.backupId,
    createdAt: h.createdAt,
    source: h.source,
    kekId: h.kekId,
    migrations: h.migrations,
    sha256,
    checksumFile: status,
    tables: body.tables,
    rows: body.rows,
  };
}

/** Verifies and records the result in the access log of `db` (a refusal also raises an alert). */
export async function verifyBackupLogged(db: Db, file: string, ctx: BackupContext): Promise<VerifiedBackup> {
  try {
    const v = await verifyBackup(file, ctx.keys);
    await logAct(db, ctx, 'success', {
      action: 'verify',
      file: v.name,
      backupId: v.backupId,
      sha256: v.sha256,
      tables: v.tables.length,
      rows: v.rows,
      checksumFile: v.checksumFile,
    });
    return v;
  } catch (e) {
    await reportFailure(db, ctx, 'verify', codeOf(e), path.basename(file));
    throw e;
  }
}

export interface RestoreResult {
  readonly name: string;
  readonly backupId: string;
  readonly createdAt: string;
  readonly sha256: string;
  readonly checksumFile: 'ok' | 'missing';
  /** As recorded in the backup at the source. */
  readonly expected: readonly TableSummary[];
  /** As recomputed from the restored database. */
  readonly actual: readonly TableSummary[];
  readonly rows: number;
}

/**
 * Rebuilds a fresh database from a backup: checks the file, refuses a target holding any row, runs this
 * build's migrations (refusing a backup whose migration list differs), inserts every table in
 * foreign-key order in one transaction, resets sequences, recomputes every table's count and checksum and
 * commits only when all match the backup — and only after the GCM tag proved the whole file.
 */
export async function restoreBackup(
  file: string,
  target: Db,
  ctx: BackupContext,
  options: { log?: boolean } = {},
): Promise<RestoreResult> {
  const name = path.basename(file);
  const opened = await readBackupHeader(file);
  const { status, sha256 } = await checkChecksumFile(file);
  const h = opened.header;
  // A wrong key is refused before the target is touched.
  await checkKey(name, h, ctx.keys);
  const build = migrationNames();
  if (!sameList(h.migrations, build)) throw migrationsDiffer(h.migrations.length, build.length);
  const filled = await tablesWithRows(target, await describeTables(target));
  if (filled.length > 0) {
    throw new DomainError(
      'BACKUP_TARGET_NOT_EMPTY',
      '復元先のデータベースにすでにデータがあります。空のデータベースを指定してください。',
      { tables: filled.length },
    );
  }
  await migrateToLatest(target);
  const applied = await appliedMigrations(target);
  if (!sameList(applied, build)) throw migrationsDiffer(h.migrations.length, applied.length);
  const tables = new Map((await describeTables(target)).map((t) => [t.name, t]));

  const { expected, actual } = await target.transaction().execute(async (trx) => {
    await stableTextSettings(trx);
    const body = await readBackupBody(file, opened, ctx.keys, {
      table: async (tableName) => {
        if (!tables.has(tableName)) {
          throw new DomainError(
            'BACKUP_SCHEMA_DIFFERS',
            'バックアップの表がこの版のデータベースにありません。バックアップを作成した版で復元してください。',
            { table: tableName },
          );
        }
        if (MIGRATION_TABLES.includes(tableName)) await clearTable(trx, tableName);
      },
      rows: (tableName, rows) => insertRows(trx, tables.get(tableName)!, rows),
      sequence: (s) => setSequence(trx, s),
    });
    await resetOwnedSequences(trx);
    const restored = await checksumsIn(trx, [...tables.values()]);
    const differences = compareSummaries(body.tables, restored);
    if (differences.length > 0) throw restoreMismatch(differences);
    return { expected: body.tables, actual: restored };
  });
  const rows = expected.reduce((n, t) => n + t.rows, 0);
  const result: RestoreResult = {
    name,
    backupId: h.backupId,
    createdAt: h.createdAt,
    sha256,
    checksumFile: status,
    expected,
    actual,
    rows,
  };
  if (options.log ?? true) {
    await logAct(target, ctx, 'success', {
      action: 'restore',
      file: name,
      backupId: h.backupId,
      sha256,
      tables: expected.length,
      rows,
      counts: countsOf(expected),
    });
  }
  return result;
}

export interface DrillResult {
  readonly ok: boolean;
  readonly name: string;
  readonly backupId: string;
  /** Per table: the source's count and checksum (recorded at backup time) and the restored ones. */
  readonly tables: readonly {
    readonly name: string;
    readonly sourceRows: number;
    readonly restoredRows: number | undefined;
    readonly match: boolean;
  }[];
  readonly rows: number;
  /** The refusal's code when the restore itself failed. */
  readonly code: string | undefined;
}

/**
 * The restore drill: restores a backup into an empty scratch database and compares every table's row
 * count and content checksum with the source's, as recorded in the backup's snapshot. The result goes to
 * the access log of `source` (the scratch database is thrown away by the caller).
 */
export async function drillBackup(
  file: string,
  scratch: Db,
  source: Db,
  ctx: BackupContext,
): Promise<DrillResult> {
  let result: DrillResult;
  try {
    const restored = await restoreBackup(file, scratch, ctx, { log: false });
    const actual = new Map(restored.actual.map((t) => [t.name, t]));
    const tables = restored.expected.map((e) => {
      const a = actual.get(e.name);
      return {
        name: e.name,
        sourceRows: e.rows,
        restoredRows: a?.rows,
        match: a !== undefined && a.rows === e.rows && a.checksum === e.checksum,
      };
    });
    result = {
      ok: tables.every((t) => t.match) && restored.actual.length === restored.expected.length,
      name: restored.name,
      backupId: restored.backupId,
      tables,
      rows: restored.rows,
      code: undefined,
    };
  } catch (e) {
    if (!isDomainError(e)) throw e;
    result = {
      ok: false,
      name: path.basename(file),
      backupId: parseBackupFileName(path.basename(file))?.backupId ?? '',
      tables: [],
      rows: 0,
      code: e.code,
    };
  }
  if (result.ok) {
    await logAct(source, ctx, 'success', {
      action: 'drill',
      file: result.name,
      backupId: result.backupId,
      tables: result.tables.length,
      rows: result.rows,
      counts: Object.fromEntries(result.tables.map((t) => [t.name, t.sourceRows])),
    });
  } else {
    await reportFailure(source, ctx, 'drill', result.code ?? 'BACKUP_RESTORE_MISMATCH', result.name);
  }
  return result;
}

/**
 * Every table's row count and content checksum, computed as a backup computes them (one snapshot). For
 * the drill and for comparing any two databases.
 */
export async function contentChecksums(db: Db): Promise<TableSummary[]> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      await stableTextSettings(trx);
      return checksumsIn(trx, await describeTables(trx));
    });
}

async function checksumsIn(
  trx: Transaction<Database>,
  tables: readonly TableInfo[],
): Promise<TableSummary[]> {
  const summaries: TableSummary[] = [];
  for (const t of tables) {
    const checksum = new ContentChecksum();
    for await (const batch of scanTable(trx, t.name, SCAN_BATCH_ROWS)) {
      for (const row of batch) checksum.add(row);
    }
    summaries.push({ name: t.name, rows: checksum.rows, checksum: checksum.hex() });
  }
  return summaries;
}

async function checkKey(name: string, header: BackupHeader, keys: KeyProvider): Promise<void> {
  try {
    const key = await keys.unwrap(
      { kekId: header.kekId, wrapped: Buffer.from(header.wrappedKey, 'base64') },
      { purpose: 'backup', backupId: header.backupId },
    );
    key.fill(0);
  } catch (e) {
    if (isDomainError(e) && e.code === 'KEY_UNWRAP_FAILED') throw backupErrors.key(name, header.kekId);
    throw e;
  }
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const migrationsDiffer = (backup: number, build: number) =>
  new DomainError(
    'BACKUP_MIGRATIONS_DIFFER',
    'バックアップのデータベース構成（マイグレーション）がこの版と一致しません。バックアップを作成した版の Jumin で復元してください。',
    { backupMigrations: backup, buildMigrations: build },
  );

const restoreMismatch = (differences: readonly TableDifference[]) =>
  new DomainError(
    'BACKUP_RESTORE_MISMATCH',
    '復元したデータの件数またはチェックサムがバックアップと一致しません。復元を取り消しました。',
    { tables: differences.map((d) => d.name) },
  );

function factsOf(made: BackupResult): Record<string, unknown> {
  return {
    file: made.name,
    backupId: made.backupId,
    sha256: made.sha256,
    bytes: made.bytes,
    tables: made.tables.length,
    rows: made.rows,
    counts: countsOf(made.tables),
  };
}

const countsOf = (tables: readonly TableSummary[]) => Object.fromEntries(tables.map((t) => [t.name, t.rows]));

const codeOf = (e: unknown) => (isDomainError(e) ? e.code : 'UNEXPECTED');

/** One access-log entry per municipality in the database: a backup holds every municipality's data. */
async function logAct(
  db: Db,
  ctx: BackupContext,
  outcome: 'success' | 'refused' | 'failed',
  details: Record<string, unknown>,
): Promise<void> {
  const codes = await municipalityCodes(db);
  await db.transaction().execute(async (trx) => {
    for (const lgCode of codes) {
      await appendAccessLog(
        trx,
        { lgCode, staffId: 'system', terminalId: ctx.terminalId, function: 'backup', outcome, details },
        ctx,
      );
    }
  });
}

/**
 * Records a failed or refused act in the access log and raises an alert (once per day and act). Errors
 * of this reporting itself are swallowed: the original failure is what the caller must see.
 */
async function reportFailure(
  db: Db,
  ctx: BackupContext,
  action: 'backup' | 'verify' | 'drill',
  code: string,
  file: string | undefined,
): Promise<void> {
  // A backup that could not be made failed; a file refused by verify or the drill was refused.
  const refused = action !== 'backup' && code !== 'UNEXPECTED';
  try {
    await logAct(db, ctx, refused ? 'refused' : 'failed', { action, code, ...(file ? { file } : {}) });
    const now = ctx.clock.now();
    const japanDate = japanDateOf(now);
    for (const lgCode of await municipalityCodes(db)) {
      await raiseAlert(db, {
        lgCode,
        rule: 'backupFailed',
        subject: 'backup',
        dedupeKey: `${japanDate}|${action}|${code}`,
        raisedAt: now,
        details: { function: 'backup', reason: `${action}:${code}`, japanDate },
      });
    }
  } catch {
    // The database may be the cause of the failure; the caller reports the original error.
  }
}
