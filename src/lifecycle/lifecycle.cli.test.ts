/**
 * The operator's commands: `jumin backup`, `backup list`, `backup verify`, `backup drill` and
 * `jumin restore`, on the test database (on PostgreSQL the drill makes and drops a scratch database).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { openEmbedded, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { DEMO_CITY_NAME, seedDemoData } from '../registry/demo-data.js';
import { actor, registryServices } from '../registry/testing.js';
import { FixedClock } from '../shared/index.js';
import { registerBackupCommands } from './lifecycle.cli.js';
import { LG_CODE, NOW } from './testing.js';

let handle: DatabaseHandle;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-backup-cli-'));
const clock = new FixedClock(NOW);
const env = {
  NODE_ENV: 'test',
  JUMIN_DATA_DIR: root,
  ...(process.env['DATABASE_URL'] ? { DATABASE_URL: process.env['DATABASE_URL'] } : {}),
};
const config = loadConfig(env);

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, LG_CODE, DEMO_CITY_NAME);
  await seedDemoData(registryServices(handle, clock).changes, actor, {
    today: clock.today(),
    households: 3,
  });
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ output: string; exitCode: number }> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerBackupCommands(program, {
    loadConfig: () => loadConfig(env),
    // The test's database stays open: the command's close is a no-op here.
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    print: (text) => lines.push(text),
    clock,
  });
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'jumin', ...args]);
    return { output: lines.join('\n'), exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
  }
}

describe('jumin backup and jumin restore', () => {
  it('back up to both locations, list, verify, drill, and restore into a new embedded database', async () => {
    const made = await run('backup');
    expect(made.exitCode).toBe(0);
    const name = /(jumin-backup-\d{8}-\d{6}-[0-9a-f]{16}\.jbak)/.exec(made.output)?.[1];
    expect(name).toBeDefined();
    expect(fs.existsSync(path.join(config.backup.dir, name!))).toBe(true);
    expect(fs.existsSync(path.join(config.backup.offsiteDir, name!))).toBe(true);
    expect(config.backup.dir).toBe(path.join(root, 'backups'));
    expect(config.backup.offsiteDir).toBe(path.join(root, 'backups-offsite'));
    // The master key file was created (development) where the config says.
    expect(fs.existsSync(path.join(root, 'keys', 'master.keys'))).toBe(true);

    const list = await run('backup', 'list');
    expect(list.output.split(name!).length - 1).toBe(2);

    const verify = await run('backup', 'verify');
    expect(verify.exitCode).toBe(0);
    expect(verify.output.match(/^OK /gm)?.length).toBe(2);

    const drill = await run('backup', 'drill');
    expect(drill.output).toContain('合格');
    expect(drill.exitCode).toBe(0);

    const target = path.join(root, 'restored');
    const restored = await run('restore', name!, '--target-data-dir', target);
    expect(restored.output).toContain('一致しました');
    await expect(run('restore', name!, '--target-data-dir', target)).rejects.toThrow(/not empty/);
    const reopened = await openEmbedded(target);
    try {
      const residents = await reopened.db
        .selectFrom('resident')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const source = await handle.db
        .selectFrom('resident')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(residents.n)).toBe(Number(source.n));
    } finally {
      await reopened.close();
    }

    // A damaged copy is refused by verify with exit code 1; --no-log needs no database.
    const damaged = path.join(root, 'damaged.jbak');
    const bytes = fs.readFileSync(path.join(config.backup.dir, name!));
    bytes[bytes.length - 30]! ^= 0xff;
    fs.writeFileSync(damaged, bytes);
    const refused = await run('backup', 'verify', damaged, '--no-log');
    expect(refused.exitCode).toBe(1);
    expect(refused.output).toContain('[BACKUP_CORRUPT]');
  });
});
