import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { MONITORING } from '../audit/testing.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { LocalKeyProvider } from '../keys/index.js';
import { FixedClock } from '../shared/index.js';
import { TransientStore } from './transient.store.js';

const LG = '999016';
const APPLICATION = Buffer.from(JSON.stringify({ myNumber: '621498320257', name: '申請　太郎' }));

describe('the transient store', () => {
  let handle: DatabaseHandle;
  let store: TransientStore;
  const clock = new FixedClock('2026-11-26T01:00:00Z');

  async function rowsOf(itemId: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM transient_item WHERE item_id = ${itemId}::uuid)
           + (SELECT count(*) FROM transient_key WHERE item_id = ${itemId}::uuid) AS n`.execute(handle.db);
    return Number(rows[0]!.n);
  }

  beforeAll(async () => {
    handle = await openTestDatabase();
    await sql`INSERT INTO municipality (lg_code, name) VALUES (${LG}, '架空市') ON CONFLICT DO NOTHING`.execute(
      handle.db,
    );
    store = new TransientStore(handle.db, LocalKeyProvider.ephemeral(), { clock, monitoring: MONITORING });
  }, 60_000);

  afterAll(async () => {
    await handle.close();
  });

  it('keeps only ciphertext and a wrapped key; take hands the item over and erases it', async () => {
    const id = await store.put(LG, 'onlineApplication', APPLICATION, 600);
    const { rows } = await sql<{ text: string }>`
      SELECT row_to_json(i)::text || row_to_json(k)::text AS text
      FROM transient_item i JOIN transient_key k USING (item_id) WHERE item_id = ${id}::uuid`.execute(
      handle.db,
    );
    expect(rows[0]!.text).not.toContain('621498320257');
    expect(rows[0]!.text).not.toContain(Buffer.from('621498320257').toString('hex'));
    expect(await rowsOf(id)).toBe(2);

    expect((await store.take(LG, id)).equals(APPLICATION)).toBe(true);
    expect(await rowsOf(id)).toBe(0);
    await expect(store.take(LG, id)).rejects.toMatchObject({ code: 'TRANSIENT_ITEM_NOT_FOUND' });
    await expect(store.take(LG, 'not-an-id')).rejects.toMatchObject({ code: 'TRANSIENT_ITEM_NOT_FOUND' });
  });

  it('another municipality cannot take or erase an item', async () => {
    const id = await store.put(LG, 'onlineApplication', APPLICATION, 600);
    await expect(store.take('999999', id)).rejects.toMatchObject({ code: 'TRANSIENT_ITEM_NOT_FOUND' });
    expect((await store.erase('999999', id)).erased).toBe(0);
    expect(await rowsOf(id)).toBe(2);
    expect(await store.erase(LG, id)).toMatchObject({ erased: 1, verified: true });
  });

  it('erase leaves no row, and a copy of the ciphertext cannot be decrypted afterwards', async () => {
    const id = await store.put(LG, 'onlineApplication', APPLICATION, 600);
    const copy = await handle.db
      .selectFrom('transient_item')
      .selectAll()
      .where('item_id', '=', id)
      .executeTakeFirstOrThrow();
    const erasure = await store.erase(LG, id);
    expect(erasure).toEqual({ erased: 1, verified: true, vacuumed: true });
    expect(await rowsOf(id)).toBe(0);

    // An attacker puts the copied ciphertext back: without its key row it cannot be opened.
    await handle.db.insertInto('transient_item').values(copy).execute();
    await expect(store.take(LG, id)).rejects.toMatchObject({ code: 'TRANSIENT_KEY_GONE' });
    expect(await rowsOf(id)).toBe(0);

    // Nor with the key of another item: the key is the item's own, bound to its id.
    const other = await store.put(LG, 'onlineApplication', Buffer.from('other'), 600);
    await handle.db.insertInto('transient_item').values(copy).execute();
    const otherKey = await handle.db
      .selectFrom('transient_key')
      .select(['lg_code', 'kek_id', 'wrapped'])
      .where('item_id', '=', other)
      .executeTakeFirstOrThrow();
    await handle.db
      .insertInto('transient_key')
      .values({ item_id: id, ...otherKey })
      .execute();
    await expect(store.take(LG, id)).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
    expect(await rowsOf(id)).toBe(0);
    await store.erase(LG, other);
  });

  it('detects a tampered ciphertext', async () => {
    const id = await store.put(LG, 'onlineApplication', APPLICATION, 600);
    await sql`UPDATE transient_item SET ciphertext = overlay(ciphertext placing '\\xff'::bytea from 40 for 1)
      WHERE item_id = ${id}::uuid`.execute(handle.db);
    await expect(store.take(LG, id)).rejects.toMatchObject({ code: 'TRANSIENT_DECRYPT_FAILED' });
    expect(await rowsOf(id)).toBe(0);
  });

  it('erases expired items on the timer and refuses to hand them over', async () => {
    const short = await store.put(LG, 'onlineApplication', APPLICATION, 60);
    const late = await store.put(LG, 'onlineApplication', APPLICATION, 60);
    const long = await store.put(LG, 'onlineApplication', APPLICATION, 3600);
    clock.set('2026-11-26T01:01:00Z');
    await expect(store.take(LG, late)).rejects.toMatchObject({ code: 'TRANSIENT_ITEM_NOT_FOUND' });
    expect(await rowsOf(late)).toBe(0);
    const erased = await store.eraseExpired();
    expect(erased).toMatchObject({ erased: 1, verified: true });
    expect(await rowsOf(short)).toBe(0);
    expect(await rowsOf(long)).toBe(2);
    const { rows } = await sql<{ details: { job: string; erased: number } }>`
      SELECT details FROM access_log WHERE lg_code = ${LG} ORDER BY seq DESC LIMIT 1`.execute(handle.db);
    expect(rows[0]!.details).toEqual({ job: 'transientErase', erased: 1 });
    expect(await store.eraseExpired()).toMatchObject({ erased: 0 });
  });

  it('refuses a time to live beyond a day', async () => {
    await expect(store.put(LG, 'onlineApplication', APPLICATION, 86_401)).rejects.toMatchObject({
      code: 'TRANSIENT_TTL_INVALID',
    });
  });
});
