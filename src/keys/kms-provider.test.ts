import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import {
  Keyring,
  KmsKeyProvider,
  LocalKeyProvider,
  contextBytes,
  openKeyProvider,
  type KeyContext,
  type KmsClient,
} from './index.js';

/**
 * Stands in for the municipality's external KMS: keys that never leave it, AES-GCM with the encryption
 * context as associated data, keys that can be disabled, and a record of every call (like CloudTrail).
 */
class TestKms implements KmsClient {
  readonly keys = new Map<string, { key: Buffer; enabled: boolean }>();
  readonly calls: string[] = [];

  createKey(id: string): void {
    this.keys.set(id, { key: randomBytes(32), enabled: true });
  }

  private keyOf(id: string): Buffer {
    const k = this.keys.get(id);
    if (!k?.enabled) throw new Error(`AccessDeniedException: key ${id} is disabled or unknown`);
    return k.key;
  }

  encrypt(r: { keyId: string; plaintext: Buffer; context: KeyContext }): Promise<{ ciphertext: Buffer }> {
    this.calls.push(`encrypt ${r.keyId}`);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.keyOf(r.keyId), iv);
    c.setAAD(contextBytes(r.context));
    const body = Buffer.concat([c.update(r.plaintext), c.final()]);
    return Promise.resolve({ ciphertext: Buffer.concat([iv, c.getAuthTag(), body]) });
  }

  decrypt(r: { keyId: string; ciphertext: Buffer; context: KeyContext }): Promise<Buffer> {
    this.calls.push(`decrypt ${r.keyId}`);
    const d = createDecipheriv('aes-256-gcm', this.keyOf(r.keyId), r.ciphertext.subarray(0, 12));
    d.setAAD(contextBytes(r.context));
    d.setAuthTag(r.ciphertext.subarray(12, 28));
    return Promise.resolve(Buffer.concat([d.update(r.ciphertext.subarray(28)), d.final()]));
  }
}

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-kms-'));
const binding = { table: 'support_measure_detail', column: 'perpetrator', row: 7 };

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('KmsKeyProvider', () => {
  it('wraps data keys in the customer’s KMS key, bound to municipality and purpose', async () => {
    const kms = new TestKms();
    kms.createKey('arn:aws:kms:ap-northeast-1:111122223333:key/kakuu-1');
    const provider = new KmsKeyProvider(kms, 'arn:aws:kms:ap-northeast-1:111122223333:key/kakuu-1');
    expect(await provider.currentKekId()).toBe('kms:arn:aws:kms:ap-northeast-1:111122223333:key/kakuu-1');
    const dataKey = randomBytes(32);
    const context = { app: 'jumin', lgCode: '999016', purpose: 'field', version: '1' };
    const wrapped = await provider.wrap(dataKey, context);
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect(await provider.unwrap(wrapped, context)).toEqual(dataKey);
    await expect(provider.unwrap(wrapped, { ...context, lgCode: '131016' })).rejects.toMatchObject({
      code: 'KEY_UNWRAP_FAILED',
    });
    await expect(provider.unwrap({ ...wrapped, kekId: 'local:1' }, context)).rejects.toMatchObject({
      code: 'KEY_UNWRAP_FAILED',
    });
    // The KMS's own message (account, key) does not leak into ours.
    kms.keys.get('arn:aws:kms:ap-northeast-1:111122223333:key/kakuu-1')!.enabled = false;
    const e = await provider.wrap(dataKey, context).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'KMS_UNAVAILABLE' });
    expect((e as Error).message).not.toContain('AccessDenied');
  });

  it('serves a keyring and moves to a new customer key by rotation; the old key can then be disabled', async () => {
    const kms = new TestKms();
    kms.createKey('projects/kakuu/locations/asia-northeast1/keyRings/jumin/cryptoKeys/kek-2026');
    kms.createKey('projects/kakuu/locations/asia-northeast1/keyRings/jumin/cryptoKeys/kek-2027');
    const oldKey = 'projects/kakuu/locations/asia-northeast1/keyRings/jumin/cryptoKeys/kek-2026';
    const newKey = 'projects/kakuu/locations/asia-northeast1/keyRings/jumin/cryptoKeys/kek-2027';
    const server = new Keyring(handle.db, new KmsKeyProvider(kms, oldKey));
    const sealed = await server.encrypt('999016', binding, '加害者の氏名');
    expect(kms.calls.filter((c) => c.startsWith('encrypt'))).toHaveLength(2);

    const result = await new Keyring(handle.db, new KmsKeyProvider(kms, newKey)).rotate();
    expect(result.kekId).toBe(`kms:${newKey}`);
    expect(result.keys.map((k) => k.from)).toEqual([`kms:${oldKey}`, `kms:${oldKey}`]);
    kms.keys.get(oldKey)!.enabled = false;

    expect(await server.decrypt('999016', binding, sealed)).toBe('加害者の氏名');
    const restarted = new Keyring(handle.db, new KmsKeyProvider(kms, newKey));
    expect(await restarted.decrypt('999016', binding, sealed)).toBe('加害者の氏名');
    // Without the customer's key nothing decrypts: the operator cannot read the data.
    kms.keys.get(newKey)!.enabled = false;
    await expect(
      new Keyring(handle.db, new KmsKeyProvider(kms, newKey)).forMunicipality('999016'),
    ).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
  });
});

describe('configuration of the key provider', () => {
  it('defaults to a local master key file under the data folder, created outside production only', async () => {
    const config = loadConfig({ NODE_ENV: 'test', JUMIN_DATA_DIR: dir });
    expect(config.keys).toEqual({
      provider: 'local',
      masterKeyFile: path.join(dir, 'keys', 'master.keys'),
      kmsKeyId: undefined,
      kmsClientModule: undefined,
    });
    const provider = await openKeyProvider(config);
    expect(provider).toBeInstanceOf(LocalKeyProvider);
    expect(fs.existsSync(path.join(dir, 'keys', 'master.keys'))).toBe(true);

    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://x@y/z',
      JUMIN_AUDIT_KEY_FILE: '/k',
      JUMIN_BACKUP_OFFSITE_DIR: '/o',
    };
    expect(() => loadConfig(production)).toThrow(/JUMIN_MASTER_KEY_FILE/);
    const missing = path.join(dir, 'nowhere', 'master.keys');
    const prod = loadConfig({ ...production, JUMIN_MASTER_KEY_FILE: missing });
    await expect(openKeyProvider(prod)).rejects.toMatchObject({ code: 'MASTER_KEY_MISSING' });
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('refuses a KMS provider without the deployment’s client, and loads the client module it names', async () => {
    expect(() => loadConfig({ NODE_ENV: 'test', JUMIN_KEY_PROVIDER: 'kms' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', JUMIN_KEY_PROVIDER: 'kms', JUMIN_KMS_KEY_ID: 'k' })).toThrow(
      /JUMIN_KMS_CLIENT_MODULE/,
    );
    const empty = path.join(dir, 'empty-client.mjs');
    fs.writeFileSync(empty, 'export const nothing = 1;\n');
    await expect(
      openKeyProvider(
        loadConfig({
          NODE_ENV: 'test',
          JUMIN_KEY_PROVIDER: 'kms',
          JUMIN_KMS_KEY_ID: 'k',
          JUMIN_KMS_CLIENT_MODULE: empty,
        }),
      ),
    ).rejects.toMatchObject({ code: 'KMS_CLIENT_MISSING' });

    // A deployment's client module (here an in-memory stand-in for the KMS).
    const module = path.join(dir, 'kms-client.mjs');
    fs.writeFileSync(
      module,
      `const store = new Map();
export function createKmsClient() {
  return {
    async encrypt({ keyId, plaintext, context }) {
      const id = String(store.size);
      store.set(id, { keyId, plaintext: Buffer.from(plaintext), context: JSON.stringify(context) });
      return { ciphertext: Buffer.from(id) };
    },
    async decrypt({ keyId, ciphertext, context }) {
      const e = store.get(ciphertext.toString());
      if (!e || e.keyId !== keyId || e.context !== JSON.stringify(context)) throw new Error('denied');
      return e.plaintext;
    },
  };
}
`,
    );
    const provider = await openKeyProvider(
      loadConfig({
        NODE_ENV: 'test',
        JUMIN_KEY_PROVIDER: 'kms',
        JUMIN_KMS_KEY_ID: 'kek-a',
        JUMIN_KMS_CLIENT_MODULE: module,
      }),
    );
    expect(provider).toBeInstanceOf(KmsKeyProvider);
    const context = { lgCode: '999016' };
    const key = randomBytes(32);
    expect(await provider.unwrap(await provider.wrap(key, context), context)).toEqual(key);
  });
});
