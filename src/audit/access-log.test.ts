import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import {
  GENESIS_HASH,
  MAX_LANES,
  chainHash,
  chainHashParts,
  entryNo,
  laneOf,
  laneRange,
  protectCriteria,
  protectValue,
  type AccessLogEntry,
  type AuditContext,
} from './access-log.js';
import { appendAccessLog, entryToRow, rowToEntry, searchAccessLog } from './access-log.service.js';
import { appendEntry, entriesAfter } from './access-log.repository.js';
import { sealCheckpoint } from './checkpoint.js';
import { append, asAttacker, auditContext, entry, newMunicipality, testAuditKey } from './testing.js';
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

  it('never forks under concurrent appends: 20 parallel transactions give gap-free lanes that verify', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handle.db.transaction().execute(async (trx) => {
          const r = await appendAccessLog(trx, entry(lg, { terminalId: `T-${i}` }), ctx);
          // Hold the transaction a little, so that others find its lane held.
          await sql`SELECT pg_sleep(0.005)`.execute(trx);
          return r.seq;
        }),
      ),
    );
    // The embedded database runs one transaction at a time: one lane. PostgreSQL uses more.
    const byLane = new Map<number, number[]>();
    for (const seq of results) byLane.set(laneOf(seq), [...(byLane.get(laneOf(seq)) ?? []), seq]);
    expect(byLane.size).toBeLessThanOrEqual(MAX_LANES);
    for (const [lane, seqs] of byLane) {
      const first = laneRange(lane).first;
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs.map((_, i) => first + i + 1));
    }
    const report = await verifyAccessLog(handle.db, lg, key.publicKey);
    expect(report.municipalities[0]).toMatchObject({ ok: true, entries: 20 });
    expect(report.municipalities[0]!.lanes.map((l) => l.lane)).toEqual([...byLane.keys()].sort());
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

describe('lanes', () => {
  /** Appends in lane `lane`, as a busy hour would when the lanes below it are held. */
  async function appendInLane(lg: string, lane: number, at: string, terminalId: string): Promise<number> {
    const content: AccessLogEntry = {
      lgCode: lg,
      seq: 0,
      occurredAt: new Date(at),
      staffId: 'staff-001',
      terminalId,
      function: 'inquiry',
      purpose: null,
      targetPersons: ['0000000018'],
      myNumberAccessed: false,
      myNumberPrinted: false,
      outcome: 'success',
      criteria: null,
      details: null,
      prevHash: '',
      hash: '',
    };
    const { seq: _seq, prev_hash: _p, hash: _h, ...row } = entryToRow(content);
    const appended = await handle.db
      .transaction()
      .execute((trx) => appendEntry(trx, row, chainHashParts(content), lane));
    return Number(appended!.seq);
  }

  it('keeps each lane a chain of its own: verified, sealed and searched together, named by log number', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    const first = laneRange(1).first;
    expect(await append(handle.db, entry(lg, { terminalId: 'T-1' }), ctx)).toEqual({ seq: 1 });
    expect(await appendInLane(lg, 1, '2026-11-26T01:01:00Z', 'T-2')).toBe(first + 1);
    ctx.clock.set('2026-11-26T01:02:00Z');
    // A lone append takes the lowest lane nobody holds.
    expect(await append(handle.db, entry(lg, { terminalId: 'T-3' }), ctx)).toEqual({ seq: 2 });
    expect(await appendInLane(lg, 1, '2026-11-26T01:03:00Z', 'T-4')).toBe(first + 2);

    const sealed = await sealCheckpoint(handle.db, lg, key, ctx.clock);
    expect(sealed.map((c) => c.uptoSeq)).toEqual([2, first + 2]);
    expect(await sealCheckpoint(handle.db, lg, key, ctx.clock)).toEqual([]);
    expect(await entriesAfter(handle.db, lg, first, 10)).toHaveLength(2);
    const page = await searchAccessLog(handle.db, lg, {});
    expect(page.entries.map((e) => e.entryNo)).toEqual(['1-2', '2', '1-1', '1']);
    const report = await verifyAccessLog(handle.db, lg, key.publicKey);
    expect(report.municipalities[0]).toMatchObject({
      ok: true,
      entries: 4,
      checkpoints: 2,
      lanes: [
        { lane: 0, entries: 2, lastSeq: 2, sealedUpto: 2 },
        { lane: 1, entries: 2, lastSeq: first + 2, sealedUpto: first + 2 },
      ],
    });

    // Lane 1 tampered with: named by its log number; lane 0 is untouched.
    await asAttacker(handle.db, async (trx) => {
      await sql`UPDATE access_log SET terminal_id = 'X' WHERE lg_code = ${lg} AND seq = ${first + 1}`.execute(
        trx,
      );
      await sql`DELETE FROM access_log WHERE lg_code = ${lg} AND seq = ${first + 2}`.execute(trx);
    });
    const tampered = (await verifyAccessLog(handle.db, lg, key.publicKey)).municipalities[0]!;
    expect(tampered.problems.map((p) => `${p.kind}@${entryNo(p.seq)}`)).toEqual([
      'edited@1-1',
      'deleted@1-2',
      'checkpoint@1-2',
    ]);
    expect(tampered.problems[0]!.message).toContain('#1-1');
    expect(tampered.lanes[0]).toMatchObject({ entries: 2, sealedUpto: 2 });
  });

  it('opens every lane with the first entry, and a removed lane still shows through its checkpoints', async () => {
    const lg = await newMunicipality(handle.db);
    const ctx = auditContext();
    await append(handle.db, entry(lg), ctx);
    const heads = await handle.db
      .selectFrom('audit_chain_head')
      .select(['lane', 'last_seq'])
      .where('lg_code', '=', lg)
      .orderBy('lane')
      .execute();
    expect(heads.map((h) => [h.lane, Number(h.last_seq)])).toEqual(
      Array.from({ length: MAX_LANES }, (_, lane) => [lane, laneRange(lane).first + (lane === 0 ? 1 : 0)]),
    );
    // Unused lanes are neither sealed nor reported.
    expect(await sealCheckpoint(handle.db, lg, key, ctx.clock)).toHaveLength(1);
    expect((await verifyAccessLog(handle.db, lg, key.publicKey)).municipalities[0]!.lanes).toHaveLength(1);
    for (let lane = 1; lane < MAX_LANES; lane++) {
      await appendInLane(lg, lane, '2026-11-26T01:05:00Z', `T-${lane}`);
    }
    expect(await sealCheckpoint(handle.db, lg, key, ctx.clock)).toHaveLength(MAX_LANES - 1);
    await asAttacker(handle.db, async (trx) => {
      const last = laneRange(MAX_LANES - 1).first;
      await sql`DELETE FROM access_log WHERE lg_code = ${lg} AND seq > ${last}`.execute(trx);
      await sql`DELETE FROM audit_chain_head WHERE lg_code = ${lg} AND lane = ${MAX_LANES - 1}`.execute(trx);
    });
    const v = (await verifyAccessLog(handle.db, lg, key.publicKey)).municipalities[0]!;
    expect(v.lanes).toHaveLength(MAX_LANES);
    expect(v.problems.map((p) => `${p.kind}@${entryNo(p.seq)}`)).toEqual([
      `deleted@${MAX_LANES - 1}-1`,
      `checkpoint@${MAX_LANES - 1}-1`,
    ]);
  });
});

describe.runIf(process.env['DATABASE_URL'])('lanes on PostgreSQL', () => {
  /** A transaction that stays open, for the test to work in, until `finish` commits it. */
  async function openTransaction(): Promise<{ trx: Transaction<Database>; finish: () => Promise<void> }> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let opened!: (trx: Transaction<Database>) => void;
    const trx = new Promise<Transaction<Database>>((resolve) => (opened = resolve));
    const committed = handle.db.transaction().execute(async (t) => {
      opened(t);
      await released;
    });
    return { trx: await trx, finish: async () => (release(), await committed) };
  }

  /** A municipality with its lanes (its first entry opens them; another first entry waits for that one). */
  async function municipalityWithLog(ctx: AuditContext): Promise<string> {
    const lg = await newMunicipality(handle.db);
    expect(await append(handle.db, entry(lg), ctx)).toEqual({ seq: 1 });
    return lg;
  }

  it('does not make an append wait for a transaction that holds a lane: it takes another', async () => {
    const ctx = auditContext();
    const lg = await municipalityWithLog(ctx);
    const slow = await openTransaction();
    expect(await appendAccessLog(slow.trx, entry(lg, { terminalId: 'SLOW' }), ctx)).toEqual({ seq: 2 });
    // Committed while lane 0 is held: in lane 1.
    expect(await append(handle.db, entry(lg, { terminalId: 'FAST' }), ctx)).toEqual({
      seq: laneRange(1).first + 1,
    });
    await slow.finish();
    expect((await verifyAccessLog(handle.db, lg, key.publicKey)).ok).toBe(true);
  });

  it('keeps a transaction in the lane it took for all its entries', async () => {
    const ctx = auditContext();
    const lg = await municipalityWithLog(ctx);
    const zero = await openTransaction();
    expect(await appendAccessLog(zero.trx, entry(lg), ctx)).toEqual({ seq: 2 });
    const one = await openTransaction();
    const first = laneRange(1).first;
    expect(await appendAccessLog(one.trx, entry(lg), ctx)).toEqual({ seq: first + 1 });
    await zero.finish();
    // Lane 0 is free again, but the open transaction holds lane 1 and stays there.
    expect(await appendAccessLog(one.trx, entry(lg), ctx)).toEqual({ seq: first + 2 });
    expect(await append(handle.db, entry(lg), ctx)).toEqual({ seq: 3 });
    await one.finish();
    expect((await verifyAccessLog(handle.db, lg, key.publicKey)).ok).toBe(true);
  });

  it("passes one operator's entries through the look-back rules one at a time", async () => {
    const ctx = auditContext();
    const lg = await municipalityWithLog(ctx);
    const search = entry(lg, { function: 'search', targetPersons: [] });
    const held = await openTransaction();
    await appendAccessLog(held.trx, search, ctx);
    let secondDone = false;
    const second = append(handle.db, search, ctx).then((r) => ((secondDone = true), r));
    const other = await append(handle.db, { ...search, staffId: 'staff-002' }, ctx);
    // Another operator's search went through; the same operator's waits for the first to commit.
    expect(laneOf(other.seq)).toBeGreaterThan(0);
    expect(secondDone).toBe(false);
    await held.finish();
    expect(laneOf((await second).seq)).toBeGreaterThan(0);
    expect((await verifyAccessLog(handle.db, lg, key.publicKey)).ok).toBe(true);
  });
});
