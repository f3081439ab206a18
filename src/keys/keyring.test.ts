import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError } from '../shared/index.js';
import { CIPHERTEXT_FORMAT, Keyring, LocalKeyProvider } from './index.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-keyring-'));

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const row = { table: 'resident_history', column: 'my_number_enc', row: '0000000017:3' };

async function codeOf(work: () => unknown): Promise<string | undefined> {
  try {
    await work();
  } catch (e) {
    return e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`;
  }
  return undefined;
}

describe('Keyring', () => {
  it('creates a municipality’s two data keys once, even when several keyrings ask at once', async () => {
    const provider = LocalKeyProvider.ephemeral();
    const rings = [0, 1, 2, 3].map(() => new Keyring(handle.db, provider));
    const keys = await Promise.all(rings.map((k) => k.forMunicipality('100001')));
    const stored = await handle.db
      .selectFrom('data_key')
      .selectAll()
      .where('lg_code', '=', '100001')
      .execute();
    expect(stored.map((r) => [r.purpose, r.version, r.kek_id]).sort()).toEqual([
      ['field', 1, 'local:1'],
      ['index', 1, 'local:1'],
    ]);
    // Whoever won the race, every keyring reads the others' ciphertexts and computes the same index.
    const sealed = keys[0]!.encrypt(row, '123456789018');
    for (const k of keys) {
      expect(k.decrypt(row, sealed)).toBe('123456789018');
      expect(k.blindIndex('123456789018').equals(keys[0]!.blindIndex('123456789018'))).toBe(true);
    }
    // The stored form is wrapped: the key itself is not in the row.
    expect(stored.every((r) => r.wrapped.length > 32)).toBe(true);
  });

  it('binds each ciphertext to its municipality, table, column and row, with a versioned header', async () => {
    const keyring = new Keyring(handle.db, LocalKeyProvider.ephemeral());
    const a = await keyring.forMunicipality('100002');
    const b = await keyring.forMunicipality('100003');
    const sealed = await keyring.encrypt('100002', row, '要保護の事情');
    expect(sealed[0]).toBe(CIPHERTEXT_FORMAT);
    expect(sealed.readUInt32BE(1)).toBe(1);
    expect(sealed.includes(Buffer.from('要保護の事情'))).toBe(false);
    expect(await keyring.decrypt('100002', row, sealed)).toBe('要保護の事情');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(a.decryptBytes(row, a.encrypt(row, bytes)).equals(bytes)).toBe(true);
    // Two encryptions of one value differ (random IV).
    expect(a.encrypt(row, 'x').equals(a.encrypt(row, 'x'))).toBe(false);

    const moved = [
      () => a.decrypt({ ...row, row: '0000000017:4' }, sealed),
      () => a.decrypt({ ...row, column: 'record' }, sealed),
      () => a.decrypt({ ...row, table: 'resident' }, sealed),
      () => b.decrypt(row, sealed),
    ];
    for (const attempt of moved) expect(await codeOf(attempt)).toBe('DATA_UNREADABLE');
    for (const i of [0, 1, 6, sealed.length - 1]) {
      const altered = Buffer.from(sealed);
      altered[i]! ^= 1;
      expect(await codeOf(() => a.decrypt(row, altered))).toBe('DATA_UNREADABLE');
    }
    // The error names where (table, column), never what nor whose row.
    let error: unknown;
    try {
      a.decrypt({ ...row, row: '0000000017:9' }, sealed);
    } catch (err) {
      error = err;
    }
    expect((error as DomainError).details).toEqual({ table: 'resident_history', column: 'my_number_enc' });
  });

  it('computes blind indexes per municipality and per kind of value', async () => {
    const keyring = new Keyring(handle.db, LocalKeyProvider.ephemeral());
    const x = await keyring.blindIndex('100004', '123456789018');
    expect(x).toHaveLength(32);
    expect((await keyring.blindIndex('100004', '123456789018')).equals(x)).toBe(true);
    expect((await keyring.blindIndex('100005', '123456789018')).equals(x)).toBe(false);
    expect((await keyring.blindIndex('100004', '123456789018', 'residentCode')).equals(x)).toBe(false);
  });

  it('refuses with a coded error under another master key, and tries again next time', async () => {
    await new Keyring(handle.db, LocalKeyProvider.ephemeral()).forMunicipality('100006');
    const wrong = new Keyring(handle.db, LocalKeyProvider.ephemeral());
    expect(await codeOf(() => wrong.forMunicipality('100006'))).toBe('KEY_UNWRAP_FAILED');
    expect(await codeOf(() => wrong.forMunicipality('100006'))).toBe('KEY_UNWRAP_FAILED');
    expect(() => wrong.loaded('100006')).toThrow(/before forMunicipality/);
  });

  it('rotates the KEK while a server keeps serving; the old KEK can then be removed', async () => {
    // Only this test's keys: a rotation re-wraps every data key in the database.
    await handle.db.deleteFrom('data_key').execute();
    const file = path.join(dir, 'rotate', 'master.keys');
    // The server: opened its key file and unwrapped its keys before the rotation.
    const serverProvider = LocalKeyProvider.open(file, { create: true });
    const server = new Keyring(handle.db, serverProvider);
    const sealed = await server.encrypt('100007', row, '123456789018');
    const index = await server.blindIndex('100007', '123456789018');

    // The operator's process (jumin keys rotate): its own view of the file and of the database.
    const cliProvider = LocalKeyProvider.open(file, { create: false });
    expect(cliProvider.addVersion()).toBe('local:2');
    const result = await new Keyring(handle.db, cliProvider).rotate();
    expect(result.kekId).toBe('local:2');
    expect(result.keys.filter((k) => k.lgCode === '100007')).toEqual([
      { lgCode: '100007', purpose: 'field', version: 1, from: 'local:1' },
      { lgCode: '100007', purpose: 'index', version: 1, from: 'local:1' },
    ]);
    const rows = await handle.db.selectFrom('data_key').select(['kek_id', 'rewrapped_at']).execute();
    expect(new Set(rows.map((r) => r.kek_id))).toEqual(new Set(['local:2']));
    expect(rows.every((r) => r.rewrapped_at !== null)).toBe(true);

    // The running server still decrypts (its keys did not change) …
    expect(await server.decrypt('100007', row, sealed)).toBe('123456789018');
    // … and a keyring it opens afresh on its old provider picks up the new KEK version from the file.
    const restarted = new Keyring(handle.db, serverProvider);
    expect(await restarted.decrypt('100007', row, sealed)).toBe('123456789018');
    expect((await restarted.blindIndex('100007', '123456789018')).equals(index)).toBe(true);
    // New municipalities are wrapped under the new KEK by the old process too.
    await restarted.forMunicipality('100008');
    const fresh = await handle.db
      .selectFrom('data_key')
      .select('kek_id')
      .where('lg_code', '=', '100008')
      .execute();
    expect(fresh.map((r) => r.kek_id)).toEqual(['local:2', 'local:2']);

    // Retire the old KEK: no data key uses it any more, and everything still decrypts.
    expect(await new Keyring(handle.db, cliProvider).countWrappedBy('local:1')).toBe(0);
    expect(() => cliProvider.removeVersion('local:2')).toThrow(
      expect.objectContaining({ code: 'KEK_CURRENT' }),
    );
    cliProvider.removeVersion('local:1');
    const reopened = LocalKeyProvider.open(file, { create: false });
    expect(reopened.kekIds()).toEqual(['local:2']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(await new Keyring(handle.db, reopened).decrypt('100007', row, sealed)).toBe('123456789018');
    expect(await new Keyring(handle.db, serverProvider).decrypt('100007', row, sealed)).toBe('123456789018');
  });

  it('rolls a rotation back whole when one key does not unwrap', async () => {
    await handle.db.deleteFrom('data_key').execute();
    const good = LocalKeyProvider.ephemeral();
    await new Keyring(handle.db, good).forMunicipality('100010');
    await new Keyring(handle.db, LocalKeyProvider.ephemeral()).forMunicipality('100011');
    good.addVersion();
    const before = await handle.db
      .selectFrom('data_key')
      .select(['lg_code', 'purpose', 'kek_id', 'wrapped'])
      .execute();
    // 100010's keys re-wrap, then 100011's (another master key) do not: nothing of it is written.
    expect(await codeOf(() => new Keyring(handle.db, good).rotate())).toBe('KEY_UNWRAP_FAILED');
    const after = await handle.db
      .selectFrom('data_key')
      .select(['lg_code', 'purpose', 'kek_id', 'wrapped'])
      .execute();
    expect(after).toEqual(before);
  });
});
