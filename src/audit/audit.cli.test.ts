import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { loadOrCreateAuditKey } from './audit-key.js';
import { registerAuditCommands } from './audit.cli.js';
import { append, auditContext, entry, newMunicipality } from './testing.js';

let handle: DatabaseHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-audit-cli-'));
const keyFile = path.join(dir, 'keys', 'audit-ed25519.pem');

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<{ output: string; exitCode: number }> {
  const lines: string[] = [];
  const program = new Command().exitOverride();
  registerAuditCommands(program, {
    loadConfig: () => loadConfig({ NODE_ENV: 'test', JUMIN_AUDIT_KEY_FILE: keyFile }),
    // The test's database stays open: the command's close is a no-op here.
    openDatabase: () => Promise.resolve({ ...handle, close: () => Promise.resolve() }),
    print: (text) => lines.push(text),
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

describe('the audit key file', () => {
  it('is created with mode 0600 only when allowed, and refused when missing otherwise', () => {
    const file = path.join(dir, 'other', 'k.pem');
    expect(() => loadOrCreateAuditKey(file, { create: false })).toThrow(
      expect.objectContaining({ code: 'AUDIT_KEY_MISSING' }),
    );
    const key = loadOrCreateAuditKey(file, { create: true });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrCreateAuditKey(file, { create: false }).keyId).toBe(key.keyId);
  });
});

describe('jumin audit', () => {
  it('checkpoint seals, verify passes; after tampering verify names it and exits with 1', async () => {
    const lg = await newMunicipality(handle.db);
    for (let i = 0; i < 3; i++) await append(handle.db, entry(lg), auditContext());
    const sealed = await run('audit', 'checkpoint', '--lg', lg);
    expect(sealed.output).toContain(`団体 ${lg}: #3 までを封印しました`);
    expect(fs.existsSync(keyFile)).toBe(true);

    const clean = await run('audit', 'verify', '--lg', lg);
    expect(clean.exitCode).toBe(0);
    expect(clean.output).toContain('結果: OK');

    await handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      await sql`UPDATE access_log SET staff_id = 'someone-else' WHERE lg_code = ${lg} AND seq = 2`.execute(
        trx,
      );
    });
    const tampered = await run('audit', 'verify', '--lg', lg);
    expect(tampered.exitCode).toBe(1);
    expect(tampered.output).toContain('[edited] #2');
  });
});
