/**
 * Tampering as a database superuser would do it — triggers bypassed — and what verification names.
 * Each test works on a municipality of its own: ten entries, sealed at #8, then one kind of tampering.
 */
import { sign } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { canonicalJson, chainHash } from './access-log.js';
import { entriesAfter } from './access-log.repository.js';
import { rowToEntry } from './access-log.service.js';
import { checkpointPayload, sealCheckpoint } from './checkpoint.js';
import { append, asAttacker, auditContext, entry, newMunicipality, testAuditKey } from './testing.js';
import { formatReport, verifyAccessLog, type ChainVerification } from './verify.js';

let handle: DatabaseHandle;
const key = testAuditKey();

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

/** Ten entries, sealed at #8 — so tampering at #5 and #6 lies inside a checkpoint. */
async function tenEntries(): Promise<string> {
  const lg = await newMunicipality(handle.db);
  const ctx = auditContext();
  for (let i = 1; i <= 10; i++) {
    ctx.clock.set(new Date(Date.parse('2026-11-26T01:00:00Z') + i * 60_000).toISOString());
    await append(handle.db, entry(lg, { terminalId: `T-${i}`, targetPersons: [`00000000${10 + i}`] }), ctx);
    if (i === 8) await sealCheckpoint(handle.db, lg, key, ctx.clock);
  }
  return lg;
}

async function verify(lg: string): Promise<ChainVerification> {
  const report = await verifyAccessLog(handle.db, lg, key.publicKey);
  return report.municipalities[0]!;
}

function kinds(v: ChainVerification) {
  return v.problems.map((p) => `${p.kind}@${p.seq}`);
}

describe('verifyAccessLog', () => {
  it('finds nothing wrong in an untouched log, and says so', async () => {
    const lg = await tenEntries();
    const v = await verify(lg);
    expect(v).toEqual({
      lgCode: lg,
      ok: true,
      entries: 10,
      checkpoints: 1,
      lanes: [{ lane: 0, entries: 10, lastSeq: 10, checkpoints: 1, sealedUpto: 8 }],
      problems: [],
    });
    expect(formatReport({ ok: true, municipalities: [v] })).toContain('改ざんは検出されませんでした');
  });

  it('names an edited entry', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      await trx
        .updateTable('access_log')
        .set({ target_persons: sql`ARRAY['0000000999']::text[]` })
        .where('lg_code', '=', lg)
        .where('seq', '=', 5)
        .execute();
    });
    const v = await verify(lg);
    expect(v.ok).toBe(false);
    expect(kinds(v)).toEqual(['edited@5']);
  });

  it('names an entry edited and re-hashed by someone who knows the algorithm', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      const [row] = await entriesAfter(trx, lg, 4, 1);
      const forged = { ...rowToEntry(row!), terminalId: 'ELSEWHERE' };
      await trx
        .updateTable('access_log')
        .set({ terminal_id: 'ELSEWHERE', hash: chainHash(row!.prev_hash, forged) })
        .where('lg_code', '=', lg)
        .where('seq', '=', 5)
        .execute();
    });
    expect(kinds(await verify(lg))).toEqual(['edited@5']);
  });

  it('names a deleted entry', async () => {
    const lg = await tenEntries();
    await handle.db.transaction().execute(async (trx) => {
      // The purge's own switch is enough: no trigger needs disabling.
      await sql`SET LOCAL jumin.allow_delete = 'on'`.execute(trx);
      await trx.deleteFrom('access_log').where('lg_code', '=', lg).where('seq', '=', 5).execute();
    });
    expect(kinds(await verify(lg))).toEqual(['deleted@5']);
  });

  it('names a deleted entry whose gap was closed by renumbering the later ones', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      await trx.deleteFrom('access_log').where('lg_code', '=', lg).where('seq', '=', 5).execute();
      await sql`UPDATE access_log SET seq = seq + 1000 WHERE lg_code = ${lg} AND seq > 5`.execute(trx);
      await sql`UPDATE access_log SET seq = seq - 1001 WHERE lg_code = ${lg} AND seq > 1000`.execute(trx);
      await sql`UPDATE audit_chain_head SET last_seq = 9 WHERE lg_code = ${lg} AND lane = 0`.execute(trx);
    });
    const v = await verify(lg);
    expect(v.problems[0]).toMatchObject({ kind: 'deleted', seq: 5 });
    // The checkpoint's sealed entry moved: reported too, never as edited or reordered.
    expect(kinds(v)).toEqual(['deleted@5', 'checkpoint@8']);
  });

  it('names a cut tail', async () => {
    const lg = await tenEntries();
    await handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jumin.allow_delete = 'on'`.execute(trx);
      await trx.deleteFrom('access_log').where('lg_code', '=', lg).where('seq', '>=', 9).execute();
    });
    const v = await verify(lg);
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'deleted', seq: 9, toSeq: 10 })]);
  });

  it('names an inserted entry with a valid-looking seq and hash (later entries renumbered)', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      const [before] = await entriesAfter(trx, lg, 3, 1);
      await sql`UPDATE access_log SET seq = seq + 1000 WHERE lg_code = ${lg} AND seq >= 5`.execute(trx);
      await sql`UPDATE access_log SET seq = seq - 999 WHERE lg_code = ${lg} AND seq > 1000`.execute(trx);
      const forged = {
        ...rowToEntry(before!),
        seq: 5,
        terminalId: 'FORGED',
        occurredAt: new Date('2026-11-26T01:04:30Z'),
      };
      await trx
        .insertInto('access_log')
        .values({
          lg_code: lg,
          seq: 5,
          occurred_at: forged.occurredAt,
          staff_id: forged.staffId,
          terminal_id: forged.terminalId,
          function: forged.function,
          purpose: forged.purpose,
          target_persons: sql`${`{${forged.targetPersons.join(',')}}`}::text[]`,
          my_number_accessed: false,
          my_number_printed: false,
          outcome: forged.outcome,
          criteria: null,
          details: null,
          prev_hash: before!.hash,
          hash: chainHash(before!.hash, forged),
        })
        .execute();
      await sql`UPDATE audit_chain_head SET last_seq = 11 WHERE lg_code = ${lg} AND lane = 0`.execute(trx);
    });
    const v = await verify(lg);
    expect(v.problems[0]).toMatchObject({ kind: 'inserted', seq: 5 });
    expect(kinds(v)).toEqual(['inserted@5', 'checkpoint@8']);
  });

  it('names an entry added beyond the chain head', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      const [last] = await entriesAfter(trx, lg, 9, 1);
      const forged = { ...rowToEntry(last!), seq: 11, terminalId: 'FORGED' };
      await sql`
        INSERT INTO access_log (lg_code, seq, occurred_at, staff_id, terminal_id, function, purpose,
          target_persons, my_number_accessed, my_number_printed, outcome, prev_hash, hash)
        VALUES (${lg}, 11, ${forged.occurredAt}, ${forged.staffId}, 'FORGED', ${forged.function},
          ${forged.purpose}, ${`{${forged.targetPersons.join(',')}}`}::text[], false, false, 'success',
          ${last!.hash}, ${chainHash(last!.hash, forged)})`.execute(trx);
    });
    expect(kinds(await verify(lg))).toEqual(['inserted@11']);
  });

  it('names swapped entries as reordered', async () => {
    const lg = await tenEntries();
    await asAttacker(handle.db, async (trx) => {
      // Swap the contents (hashes included) of #5 and #6 by swapping their seqs.
      await sql`UPDATE access_log SET seq = 1005 WHERE lg_code = ${lg} AND seq = 5`.execute(trx);
      await sql`UPDATE access_log SET seq = 5 WHERE lg_code = ${lg} AND seq = 6`.execute(trx);
      await sql`UPDATE access_log SET seq = 6 WHERE lg_code = ${lg} AND seq = 1005`.execute(trx);
    });
    const v = await verify(lg);
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'reordered', seq: 5, toSeq: 6 })]);
  });

  it('names a forged checkpoint, and an altered one', async () => {
    const lg = await tenEntries();
    const rows = await entriesAfter(handle.db, lg, 0, 10);
    const attackerKey = testAuditKey();
    const body = {
      lgCode: lg,
      uptoSeq: 10,
      chainHash: rows[9]!.hash,
      createdAt: new Date('2026-11-26T02:00:00Z'),
    };
    await handle.db
      .insertInto('audit_checkpoint')
      .values({
        lg_code: lg,
        upto_seq: 10,
        chain_hash: body.chainHash,
        created_at: body.createdAt,
        key_id: key.keyId, // claims the real key
        signature: sign(null, checkpointPayload(body), attackerKey.privateKey).toString('base64'),
      })
      .execute();
    let v = await verify(lg);
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'checkpoint', seq: 10 })]);
    expect(v.lanes[0]!.sealedUpto).toBe(8);

    await asAttacker(handle.db, async (trx) => {
      await trx
        .updateTable('audit_checkpoint')
        .set({ upto_seq: 9, chain_hash: rows[8]!.hash })
        .where('lg_code', '=', lg)
        .where('upto_seq', '=', 8)
        .execute();
    });
    v = await verify(lg);
    expect(kinds(v)).toEqual(['checkpoint@9', 'checkpoint@10']);
    expect(v.lanes[0]!.sealedUpto).toBeNull();
  });

  it('names a chain rewritten consistently after sealing through its checkpoint', async () => {
    const lg = await tenEntries();
    // Rewrite #3..#10 with recomputed hashes: the chain alone looks perfect; the checkpoint does not.
    await asAttacker(handle.db, async (trx) => {
      const rows = await entriesAfter(trx, lg, 0, 10);
      let prev = rows[1]!.hash;
      for (const row of rows.slice(2)) {
        const e = { ...rowToEntry(row), terminalId: 'REWRITTEN' };
        const hash = chainHash(prev, e);
        await trx
          .updateTable('access_log')
          .set({ terminal_id: 'REWRITTEN', prev_hash: prev, hash })
          .where('lg_code', '=', lg)
          .where('seq', '=', row.seq)
          .execute();
        prev = hash;
      }
      await sql`UPDATE audit_chain_head SET last_hash = ${prev} WHERE lg_code = ${lg} AND lane = 0`.execute(
        trx,
      );
    });
    expect(kinds(await verify(lg))).toEqual(['checkpoint@8']);
  });

  it('reports checkpoints as unverifiable without a public key, and covers every municipality', async () => {
    const lg = await tenEntries();
    const report = await verifyAccessLog(handle.db, undefined, undefined);
    expect(report.ok).toBe(false);
    const mine = report.municipalities.find((m) => m.lgCode === lg)!;
    expect(kinds(mine)).toEqual(['checkpoint@8']);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined }] })).toBe('{"a":[{"d":2}],"b":1}');
  });
});
