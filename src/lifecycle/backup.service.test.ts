/**
 * Backups against a real database (embedded by default, PostgreSQL when DATABASE_URL is set): the restore
 * drill, refusals of corrupted, truncated and wrongly keyed files, the second location, retention in both
 * locations, and the daily job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealAll, verifyAccessLog, type AuditKey } from '../audit/index.js';
import { openEmbedded, type DatabaseHandle, type Db } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { LocalKeyProvider } from '../keys/index.js';
import { FixedClock } from '../shared/index.js';
import {
  applyRetention,
  contentChecksums,
  createBackup,
  drillBackup,
  listBackups,
  restoreBackup,
  runBackup,
  startDailyBackup,
  verifyBackup,
  verifyBackupLogged,
  type BackupResult,
  type BackupRun,
} from './index.js';
import { LG_CODE, backupContext, seedSource, tempLocations } from './testing.js';

let source: DatabaseHandle;
const ctx = backupContext();
const locations = tempLocations();
let made: BackupResult;
let auditKey: AuditKey;

beforeAll(async () => {
  source = await openTestDatabase();
  auditKey = await seedSource(source.db);
  made = await createBackup(source, locations.dir, ctx);
});
afterAll(async () => {
  await source.close();
  fs.rmSync(locations.root, { recursive: true, force: true });
});

async function withTarget<T>(work: (db: Db) => Promise<T>): Promise<T> {
  const target = await openTestDatabase();
  try {
    return await work(target.db);
  } finally {
    await target.close();
  }
}

/** A copy of the backup that a test may damage. */
function copyOf(label: string, { withChecksum = true } = {}): string {
  const dir = path.join(locations.root, label);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, made.name);
  fs.copyFileSync(made.file, file);
  if (withChecksum) fs.copyFileSync(`${made.file}.sha256`, `${file}.sha256`);
  return file;
}

async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  throw new Error('expected a refusal');
}

async function backupEntries(db: Db) {
  return db
    .selectFrom('access_log')
    .select(['function', 'outcome', 'details', 'terminal_id'])
    .where('lg_code', '=', LG_CODE)
    .where('function', '=', 'backup')
    .orderBy('seq')
    .execute();
}

describe('a backup', () => {
  it('holds every table of the schema with the source counts and checksums, many of them with rows', async () => {
    const live = await contentChecksums(source.db);
    expect(made.tables).toEqual(live);
    const names = live.map((t) => t.name);
    for (const t of ['municipality', 'resident', 'resident_history', 'change', 'access_log', 'staff']) {
      expect(names).toContain(t);
    }
    expect(names).toContain('kysely_migration');
    expect(live.filter((t) => t.rows > 0).length).toBeGreaterThanOrEqual(10);
    // Parents come before children: a restore inserts in this order.
    expect(names.indexOf('municipality')).toBeLessThan(names.indexOf('resident'));
    expect(fs.readFileSync(`${made.file}.sha256`, 'utf8')).toBe(`${made.sha256}  ${made.name}\n`);
    expect(fs.statSync(made.file).mode & 0o777).toBe(0o600);
  });

  it('is encrypted: no name, number or table text of the register is readable in the file', async () => {
    const bytes = fs.readFileSync(made.file);
    const someone = await source.db
      .selectFrom('resident')
      .select('record')
      .limit(1)
      .executeTakeFirstOrThrow();
    const record = JSON.stringify(someone.record);
    const probe = /"family":"([^"]+)"/.exec(record)?.[1];
    expect(probe).toBeDefined();
    expect(bytes.includes(Buffer.from(probe!, 'utf8'))).toBe(false);
    expect(bytes.includes(Buffer.from('resident_history'))).toBe(false);
    expect(bytes.subarray(0, 8).toString()).toBe('JUMINBAK');
  });

  it('passes verify: checksum file, key, tag and every table checksum', async () => {
    const v = await verifyBackup(made.file, ctx.keys);
    expect(v).toMatchObject({
      checksumFile: 'ok',
      sha256: made.sha256,
      rows: made.rows,
      backupId: made.backupId,
    });
    expect(v.tables).toEqual(made.tables);
  });
});

describe('the restore drill', () => {
  it('restores into a fresh database whose counts and content checksums equal the source', async () => {
    await withTarget(async (scratch) => {
      const drill = await drillBackup(made.file, scratch, source.db, ctx);
      expect(drill.ok).toBe(true);
      expect(drill.tables.length).toBe(made.tables.length);
      expect(drill.tables.every((t) => t.match)).toBe(true);
      expect(await contentChecksums(scratch)).toEqual(made.tables);
    });
    const entries = await backupEntries(source.db);
    expect(entries.at(-1)).toMatchObject({
      outcome: 'success',
      details: { action: 'drill', rows: made.rows },
    });
  });

  it('gives a working database: the access-log chain verifies and new rows continue the sequences', async () => {
    await withTarget(async (target) => {
      const r = await restoreBackup(made.file, target, ctx);
      expect(r.actual).toEqual(made.tables);
      expect((await verifyAccessLog(target, LG_CODE, auditKey.publicKey)).ok).toBe(true);
      const before = await target
        .selectFrom('audit_checkpoint')
        .select((eb) => eb.fn.max('checkpoint_id').as('max'))
        .executeTakeFirstOrThrow();
      const [sealed] = await sealAll(target, auditKey, ctx.clock);
      expect(Number(sealed?.checkpointId)).toBeGreaterThan(Number(before.max));
      // The restore is in the restored database's access log.
      expect((await backupEntries(target)).at(-1)).toMatchObject({
        outcome: 'success',
        details: { action: 'restore', file: made.name, sha256: made.sha256 },
      });
      // A database holding rows is refused as a target.
      expect(await refusal(restoreBackup(made.file, target, ctx))).toBe('BACKUP_TARGET_NOT_EMPTY');
    });
  });

  it.runIf(process.env['DATABASE_URL'])(
    'restores a PostgreSQL backup into the embedded database, and that one back into PostgreSQL',
    async () => {
      const embedded = await openEmbedded(undefined);
      try {
        const restored = await restoreBackup(made.file, embedded.db, ctx, { log: false });
        expect(restored.actual).toEqual(made.tables);
        const again = await createBackup(embedded, path.join(locations.root, 'from-embedded'), ctx);
        expect(again.tables).toEqual(made.tables);
        await withTarget(async (target) => {
          await restoreBackup(again.file, target, ctx, { log: false });
          expect(await contentChecksums(target)).toEqual(made.tables);
        });
      } finally {
        await embedded.close();
      }
    },
  );
});

describe('refusals', () => {
  it('a backup made under another master key is refused by verify and restore', async () => {
    const other = LocalKeyProvider.ephemeral();
    expect(await refusal(verifyBackup(made.file, other))).toBe('BACKUP_KEY_REFUSED');
    // Refused before the target is looked at (this one holds rows: it would be refused as not empty).
    expect(await refusal(restoreBackup(made.file, source.db, { ...ctx, keys: other }))).toBe(
      'BACKUP_KEY_REFUSED',
    );
    // The drill reports the refusal, and the source's access log records it.
    const drill = await drillBackup(made.file, source.db, source.db, { ...ctx, keys: other });
    expect(drill).toMatchObject({ ok: false, code: 'BACKUP_KEY_REFUSED' });
    expect((await backupEntries(source.db)).at(-1)).toMatchObject({
      outcome: 'refused',
      details: { action: 'drill', code: 'BACKUP_KEY_REFUSED' },
    });
  });

  it('a flipped byte is refused: by the checksum file, and by the GCM tag without it', async () => {
    const file = copyOf('flipped');
    const bytes = fs.readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    expect(await refusal(verifyBackup(file, ctx.keys))).toBe('BACKUP_CHECKSUM_MISMATCH');
    fs.rmSync(`${file}.sha256`);
    expect(await refusal(verifyBackup(file, ctx.keys))).toBe('BACKUP_CORRUPT');
  });

  it('an altered header is refused (it is authenticated with the body)', async () => {
    const file = copyOf('header', { withChecksum: false });
    const bytes = fs.readFileSync(file);
    const text = bytes.toString('latin1');
    const at = text.indexOf('"source":"') + '"source":"'.length;
    const kind = text.slice(at, at + 8) === 'embedded' ? 'postgres' : 'embedded';
    const altered = Buffer.concat([
      bytes.subarray(0, at),
      Buffer.from(kind, 'latin1'),
      bytes.subarray(at + (kind === 'embedded' ? 'postgres'.length : 'embedded'.length)),
    ]);
    fs.writeFileSync(file, altered);
    expect(await refusal(verifyBackup(file, ctx.keys))).toBe('BACKUP_CORRUPT');
  });

  it('a truncated file is refused, and a corrupted file restores nothing', async () => {
    const file = copyOf('truncated', { withChecksum: false });
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    expect(await refusal(verifyBackup(file, ctx.keys))).toBe('BACKUP_CORRUPT');
    fs.writeFileSync(file, bytes.subarray(0, 40));
    expect(await refusal(verifyBackup(file, ctx.keys))).toMatch(/^BACKUP_(CORRUPT|FORMAT_INVALID)$/);

    // Damage near the end: most rows decrypt before the tag fails, and the restore rolls all of them back.
    const late = Buffer.from(bytes);
    late[late.length - 20]! ^= 0x80;
    fs.writeFileSync(file, late);
    await withTarget(async (target) => {
      expect(await refusal(restoreBackup(file, target, ctx))).toBe('BACKUP_CORRUPT');
      const after = await contentChecksums(target);
      expect(after.filter((t) => !t.name.startsWith('kysely_') && t.rows > 0)).toEqual([]);
    });
    fs.writeFileSync(file, 'not a backup');
    expect(await refusal(verifyBackup(file, ctx.keys))).toBe('BACKUP_FORMAT_INVALID');
  });

  it('a refused verify is in the access log and raises an alert', async () => {
    const file = copyOf('logged');
    fs.appendFileSync(file, 'x');
    expect(await refusal(verifyBackupLogged(source.db, file, ctx))).toBe('BACKUP_CHECKSUM_MISMATCH');
    expect((await backupEntries(source.db)).at(-1)).toMatchObject({
      outcome: 'refused',
      details: { action: 'verify', code: 'BACKUP_CHECKSUM_MISMATCH', file: made.name },
    });
    const alerts = await source.db
      .selectFrom('audit_alert')
      .select(['rule', 'details'])
      .where('lg_code', '=', LG_CODE)
      .where('rule', '=', 'backupFailed')
      .execute();
    expect(alerts.map((a) => (a.details as { reason?: string }).reason)).toContain(
      'verify:BACKUP_CHECKSUM_MISMATCH',
    );
  });
});

describe('locations and retention', () => {
  it('copies each backup to the second location and keeps 31 days in both: the 32nd-day backup goes', async () => {
    const loc = tempLocations(31);
    const clock = new FixedClock('2026-10-26T17:00:00Z'); // 02:00 JST on 2026-10-27
    const run = (day: string) => {
      clock.set(`${day}T02:00:00+09:00`);
      return runBackup(source, loc, { ...ctx, clock });
    };
    const oldest = await run('2026-10-27'); // 31 days before 2026-11-27: its 32nd day
    const kept = await run('2026-10-28'); // 30 days before: its 31st day
    const today = await run('2026-11-27');

    for (const r of [kept, today]) {
      expect(fs.readFileSync(r.offsiteFile)).toEqual(fs.readFileSync(r.file));
      expect(path.dirname(r.offsiteFile)).toBe(loc.offsiteDir);
    }
    const names = (dir: string) => fs.readdirSync(dir).sort();
    const expected = [kept.name, `${kept.name}.sha256`, today.name, `${today.name}.sha256`].sort();
    expect(names(loc.dir)).toEqual(expected);
    expect(names(loc.offsiteDir)).toEqual(expected);
    expect(today.deleted.primary).toEqual([oldest.name, `${oldest.name}.sha256`]);
    expect(today.deleted.offsite).toEqual([oldest.name, `${oldest.name}.sha256`]);
    // The copy in the second location verifies on its own.
    expect((await verifyBackup(today.offsiteFile, ctx.keys)).checksumFile).toBe('ok');
    expect((await listBackups(loc.offsiteDir)).map((b) => b.name)).toEqual([kept.name, today.name]);

    expect((await backupEntries(source.db)).at(-1)).toMatchObject({
      outcome: 'success',
      details: { action: 'backup', file: today.name, sha256: today.sha256, offsite: true, deleted: 2 },
    });
    // Retention never touches other files, and leaves nothing to do the same day.
    fs.writeFileSync(path.join(loc.dir, 'notes.txt'), 'operator notes');
    expect(await applyRetention(loc.dir, '2026-11-27', 31)).toEqual([]);
    fs.rmSync(loc.root, { recursive: true, force: true });
  });

  it('a second location that cannot be written fails the run: logged and alerted; an unmounted share is not created', async () => {
    const loc = tempLocations();
    fs.mkdirSync(loc.root, { recursive: true });
    fs.writeFileSync(loc.offsiteDir, 'a file where the mount should be');
    expect(await refusal(runBackup(source, loc, ctx))).toBe('BACKUP_OFFSITE_FAILED');
    expect((await backupEntries(source.db)).at(-1)).toMatchObject({
      outcome: 'failed',
      details: { action: 'backup', code: 'BACKUP_OFFSITE_FAILED' },
    });
    const alerts = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM audit_alert WHERE rule = 'backupFailed' AND details->>'reason' = 'backup:BACKUP_OFFSITE_FAILED'`.execute(
      source.db,
    );
    expect(alerts.rows[0]?.n).toBeGreaterThan(0);
    // In production a missing second location (an unmounted share) is not created on the local disk.
    const unmounted = { ...tempLocations(), createOffsiteDir: false };
    expect(await refusal(runBackup(source, unmounted, ctx))).toBe('BACKUP_OFFSITE_FAILED');
    expect(fs.existsSync(unmounted.offsiteDir)).toBe(false);
    fs.rmSync(loc.root, { recursive: true, force: true });
    fs.rmSync(unmounted.root, { recursive: true, force: true });
  });

  it('a backup of a database with other migrations is refused by restore', async () => {
    await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_future', '2026-11-26T00:00:00Z')`.execute(
      source.db,
    );
    let future: BackupResult;
    try {
      future = await createBackup(source, path.join(locations.root, 'future'), ctx);
    } finally {
      await sql`DELETE FROM kysely_migration WHERE name = '9999_future'`.execute(source.db);
    }
    // Refused before the target is looked at (this one holds rows: it would be refused as not empty).
    expect(await refusal(restoreBackup(future.file, source.db, ctx))).toBe('BACKUP_MIGRATIONS_DIFFER');
  });
});

describe('the daily job', () => {
  it('runs the backup at the configured time (Japan time) and stops cleanly', async () => {
    const loc = tempLocations();
    const clock = new FixedClock('2026-11-26T16:59:59.950Z'); // 50 ms before 02:00 JST
    const done = new Promise<BackupRun>((resolve, reject) => {
      const stop = startDailyBackup({
        handle: source,
        locations: loc,
        dailyAt: '02:00',
        ctx: { ...ctx, clock },
        onDone: (run) => void stop().then(() => resolve(run)),
        onError: (e) => void stop().then(() => reject(e as Error)),
      });
    });
    const run = await done;
    expect(run.name).toMatch(/^jumin-backup-20261127-015959-[0-9a-f]{16}\.jbak$/);
    expect(fs.existsSync(run.offsiteFile)).toBe(true);
    fs.rmSync(loc.root, { recursive: true, force: true });
  });
});
