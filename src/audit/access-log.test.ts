import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { GENESIS_HASH, chainHash, protectCriteria, protectValue } from './access-log.js';
import { appendAccessLog, rowToEntry, searchAccessLog } from './access-log.service.js';
import { entriesAfter } from './access-log.repository.js';
import { append, auditContext, entry, newMunicipality, testAuditKey } from './testing.js';
import { verifyAccessLog } from './verify.js';

let handle: DatabaseHandle;
const key = testAuditKey();

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

describe('appending', () => {
  it('chains entries per municipality from the genesis hash, seq 1, 2, 3…', async () => {
    const a = await newMunicipality(handle.db);
    const b = await newMunicipality(handle.db);
    const ctx = auditContext();
    expect(await append(handle.db, entry(a), ctx)).toEqual({ seq: 1 });
    expect(await append(handle.db, entry(b), ctx)).toEqual({ seq: 1 });
    expect(await append(handle.db, entry(a, { function: 'search', targetPersons: [] }), ctx)).toEqual({
      seq: 2,
    });
    const rows = await entriesAfter(handle.db, a, 0, 10);
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    for (const r of rows) expect(chainHash(r.prev_hash, rowToEntry(r))).toBe(r.hash);
    expect(rows[0]!.occurred_at.toISOString()).toBe('2026-11-26T01:00:00.000Z');
    expect(rows[0]!.target_persons).toEqual(['0000000018']);
    const report = await verifyAccessLog(handle.db, a, key.publicKey);
    expect(report.ok).toBe(true);
    expect(report.municipalities[0]!.entries).toBe(2);
  });

  it('hashes in the database exactly as chainHash does, whatever the text holds', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    // Details the database must hash byte for byte: kanji and kana, quotes and backslashes, a nested "seq"
    // key, JSON escapes (control characters, U+2028), characters outside the BMP, numbers, null.
    const awkward = {
      seq: 999,
      note: '山田 "太郎" \\ ／ ｶﾅ \u0001\t\n \u2028 𠮷野家 🏠',
      nested: { seq: '"seq":1', list: [1, 2.5, -3e-7, null, true] },
      '': 'empty key',
    };
    for (let i = 0; i < 3; i += 1) {
      await append(handle.db, entry(lg, { details: { ...awkward, i }, purpose: `照会 ${i}` }), ctx);
    }
    const rows = await entriesAfter(handle.db, lg, 0, 10);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.hash).toBe(chainHash(r.prev_hash, rowToEntry(r)));
    expect(rows[2]!.details).toMatchObject({ note: awkward.note, nested: awkward.nested });
    expect((await verifyAccessLog(handle.db, lg, key.publicKey)).ok).toBe(true);
  });

  it('rolls back with the act: no entry for an act that did not happen', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await expect(
      handle.db.transaction().execute(async (trx) => {
        await appendAccessLog(trx, entry(lg), ctx);
        throw new Error('the act failed');
      }),
    ).rejects.toThrow('the act failed');
    expect(await entriesAfter(handle.db, lg, 0, 10)).toEqual([]);
    expect(await append(handle.db, entry(lg), ctx)).toEqual({ seq: 1 });
  });

  it('never forks under concurrent appends: 20 parallel transactions give seqs 1..20 and verify', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handle.db.transaction().execute(async (trx) => {
          const r = await appendAccessLog(trx, entry(lg, { terminalId: `T-${i}` }), ctx);
          // Hold the transaction a little, so others queue on the chain head.
          await sql`SELECT pg_sleep(0.005)`.execute(trx);
          return r.seq;
        }),
      ),
    );
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const report = await verifyAccessLog(handle.db, lg, key.publicKey);
    expect(report.municipalities[0]).toMatchObject({ ok: true, entries: 20, lastSeq: 20 });
  });

  it('refuses invalid input without echoing it', async () => {
    const lg = await newMunicipality(handle.db);
    await expect(
      append(handle.db, { ...entry(lg), function: 'nonsense' as 'login' }, auditContext()),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('is append-only: UPDATE and DELETE are refused by the trigger', async () => {
    const lg = await newMunicipality(handle.db);
    await append(handle.db, entry(lg), auditContext());
    await expect(
      handle.db.updateTable('access_log').set({ terminal_id: 'X' }).where('lg_code', '=', lg).execute(),
    ).rejects.toThrow(/append-only/);
    await expect(handle.db.deleteFrom('access_log').where('lg_code', '=', lg).execute()).rejects.toThrow(
      /append-only/,
    );
    expect(await entriesAfter(handle.db, lg, 0, 10)).toHaveLength(1);
  });
  it("lets the application's role only read and insert the log (and only acknowledge alerts)", async () => {
    const { rows } = await sql<Record<string, boolean>>`SELECT
      has_table_privilege('jumin_app', 'access_log', 'SELECT') AS sel,
      has_table_privilege('jumin_app', 'access_log', 'INSERT') AS ins,
      has_table_privilege('jumin_app', 'access_log', 'UPDATE') AS upd,
      has_table_privilege('jumin_app', 'access_log', 'DELETE') AS del,
      has_table_privilege('jumin_app', 'audit_checkpoint', 'UPDATE') AS checkpoint_upd,
      has_column_privilege('jumin_app', 'audit_alert', 'acknowledged_at', 'UPDATE') AS ack,
      has_column_privilege('jumin_app', 'audit_alert', 'rule', 'UPDATE') AS rule`.execute(handle.db);
    expect(rows[0]).toEqual({
      sel: true,
      ins: true,
      upd: false,
      del: false,
      checkpoint_upd: false,
      ack: true,
      rule: false,
    });
  });
});

describe('protectCriteria', () => {
  const criteria = {
    name: '山田　太郎',
    kana: 'ヤマダ タロウ',
    myNumber: '1234 5678 9012',
    status: 'active',
    page: 2,
  };
  const sensitive = ['name', 'kana', 'myNumber', 'address', 'birthDate'];

  it('hides names and numbers behind keyed hashes, keeps the rest, and stores no clear value', async () => {
    const p = protectCriteria(criteria, sensitive, key.criteriaKey);
    expect(p['status']).toBe('active');
    expect(p['page']).toBe(2);
    for (const k of ['name', 'kana', 'myNumber']) expect(p[k]).toMatch(/^hmac:[0-9a-f]{64}$/);
    const lg = await newMunicipality(handle.db);
    await append(handle.db, entry(lg, { function: 'search', criteria: p }), auditContext());
    const { rows } = await sql<{ json: string }>`
      SELECT criteria::text AS json FROM access_log WHERE lg_code = ${lg}`.execute(handle.db);
    const stored = rows[0]!.json;
    for (const clear of ['山田', '太郎', 'ヤマダ', 'やまだ', '1234', '9012'])
      expect(stored).not.toContain(clear);
  });

  it('gives equal hashes for equal inputs after normalisation, different ones otherwise', () => {
    const a = protectCriteria({ name: '山田 太郎' }, ['name'], key.criteriaKey);
    const b = protectCriteria({ name: '山田　太郎' }, ['name'], key.criteriaKey);
    const c = protectCriteria({ name: '山田 次郎' }, ['name'], key.criteriaKey);
    expect(a['name']).toBe(b['name']);
    expect(a['name']).not.toBe(c['name']);
    expect(protectValue('ヤマダ', key.criteriaKey)).toBe(protectValue('やまだ', key.criteriaKey));
    // Another key, another hash: the database alone does not allow guessing.
    expect(protectValue('やまだ', testAuditKey().criteriaKey)).not.toBe(
      protectValue('やまだ', key.criteriaKey),
    );
  });
});

describe('searching the log', () => {
  it('finds entries by operator, person, function, outcome and time, newest first', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await append(handle.db, entry(lg, { staffId: 'a', targetPersons: ['0000000018', '0000000026'] }), ctx);
    ctx.clock.set('2026-11-26T02:00:00Z');
    await append(
      handle.db,
      entry(lg, { staffId: 'b', function: 'change', targetPersons: ['0000000026'] }),
      ctx,
    );
    ctx.clock.set('2026-11-26T03:00:00Z');
    await append(
      handle.db,
      entry(lg, { staffId: 'a', function: 'loginFailed', outcome: 'failed', targetPersons: [] }),
      ctx,
    );

    const all = await searchAccessLog(handle.db, lg, {});
    expect(all.total).toBe(3);
    expect(all.entries.map((e) => e.seq)).toEqual([3, 2, 1]);
    expect((await searchAccessLog(handle.db, lg, { staffId: 'a' })).entries.map((e) => e.seq)).toEqual([
      3, 1,
    ]);
    expect(
      (await searchAccessLog(handle.db, lg, { personNo: '0000000026' })).entries.map((e) => e.seq),
    ).toEqual([2, 1]);
    expect((await searchAccessLog(handle.db, lg, { function: 'change' })).entries.map((e) => e.seq)).toEqual([
      2,
    ]);
    expect((await searchAccessLog(handle.db, lg, { outcome: 'failed' })).entries.map((e) => e.seq)).toEqual([
      3,
    ]);
    const window = await searchAccessLog(handle.db, lg, {
      from: '2026-11-26T11:00:00+09:00',
      to: '2026-11-26T12:00:00+09:00',
    });
    expect(window.entries.map((e) => e.seq)).toEqual([2]);
    const paged = await searchAccessLog(handle.db, lg, { page: 2, pageSize: 2 });
    expect(paged).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect(paged.entries.map((e) => e.seq)).toEqual([1]);
    expect(paged.entries[0]).not.toHaveProperty('hash');
  });
});
