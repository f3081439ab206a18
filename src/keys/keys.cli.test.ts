import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { Keyring, LocalKeyProvider, registerKeyCommands } from './index.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-keys-cli-'));
const file = path.join(dir, 'keys', 'master.keys');
const LG = '999016';
const where = { table: 'suppression', column: 'reason', row: 1 };

beforeAll(async () => {
  handle = await openTestDatabase();
  await handle.db.insertInto('municipality').values({ lg_code: LG, name: '架空市' }).execute();
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerKeyCommands(program, {
    loadConfig: () => loadConfig({ NODE_ENV: 'test', JUMIN_MASTER_KEY_FILE: file }),
    // The test's database stays open: the command's close is a no-op here.
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    migrateToLatest,
    print: (text) => lines.push(text),
  });
  await program.parseAsync(['node', 'jumin', ...args]);
  return lines.join('\n');
}

describe('jumin keys', () => {
  it('rotates while a server serves, logs it, and retires the old KEK only once unused', async () => {
    // The server, started before: its own provider on the file, its keys unwrapped and in use.
    const serverProvider = LocalKeyProvider.open(file, { create: true });
    const server = new Keyring(handle.db, serverProvider);
    const sealed = await server.encrypt(LG, where, '本人からの申出');

    expect(await run('keys', 'status')).toContain(`団体 ${LG} field v1: local:1`);
    expect(await run('keys', 'rotate', '--dry-run')).toContain('local:1: 2');
    expect(LocalKeyProvider.open(file, { create: false }).kekIds()).toEqual(['local:1']);

    // A KEK still wrapping data keys cannot be retired; nor can the current one.
    LocalKeyProvider.open(file, { create: false }).addVersion();
    await expect(run('keys', 'retire', 'local:1')).rejects.toMatchObject({ code: 'KEK_IN_USE' });
    await expect(run('keys', 'retire', 'local:2')).rejects.toMatchObject({ code: 'KEK_CURRENT' });

    const out = await run('keys', 'rotate');
    expect(out).toContain('鍵暗号化鍵 local:3 を追加しました。');
    expect(out).toContain('データ鍵 2 件（団体 1）を local:3 で再ラップし、復号を確認しました。');
    const logged = await handle.db
      .selectFrom('access_log')
      .select(['function', 'staff_id', 'terminal_id', 'outcome', 'details'])
      .where('lg_code', '=', LG)
      .execute();
    expect(logged).toEqual([
      {
        function: 'keyRotation',
        staff_id: 'system',
        terminal_id: 'cli',
        outcome: 'success',
        details: { kekId: 'local:3', previousKekIds: ['local:1'], dataKeys: 2 },
      },
    ]);

    // The server keeps decrypting; the old versions go; a restarted server decrypts with the file left.
    expect(await server.decrypt(LG, where, sealed)).toBe('本人からの申出');
    expect(await run('keys', 'retire', 'local:1')).toContain('local:1 を鍵ファイルから削除しました。');
    await run('keys', 'retire', 'local:2');
    expect(LocalKeyProvider.open(file, { create: false }).kekIds()).toEqual(['local:3']);
    expect(await server.decrypt(LG, where, sealed)).toBe('本人からの申出');
    const restarted = new Keyring(handle.db, LocalKeyProvider.open(file, { create: false }));
    expect(await restarted.decrypt(LG, where, sealed)).toBe('本人からの申出');
    expect(await run('keys', 'status')).toContain(`団体 ${LG} index v1: local:3`);
  });
});
