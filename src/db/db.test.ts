import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDown, migrateToLatest, pipelined, unreadReply, type DatabaseHandle } from './index.js';
import { openTestDatabase } from './testing.js';

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

/** A municipality and one change row of it, for a test (the down-and-up test deletes them all). */
async function insertMunicipalityAndChange(lgCode: string): Promise<{ change_id: number }> {
  await handle.db.insertInto('municipality').values({ lg_code: lgCode, name: 'テスト市' }).execute();
  return handle.db
    .insertInto('change')
    .values({
      lg_code: lgCode,
      change_type: 'test',
      change_kind: 'correction',
      reason: 'test',
      effective_date: '2024-04-01',
      processed_on: '2024-04-01',
      notified_on: null,
      staff_id: 's',
      terminal_id: 't',
      notes: null,
      cancels_change_id: null,
      payload: JSON.stringify({}),
      flow_japanese: 0,
      flow_foreign: 0,
    })
    .returning('change_id')
    .executeTakeFirstOrThrow();
}

/** Undoes the latest migrations, one at a time, through `name`; returns what ran. */
async function migrateDownThrough(name: string): Promise<string[]> {
  const ran: string[] = [];
  while (!ran.includes(`Down ${name}`)) {
    const step = await migrateDown(handle.db);
    if (step.length === 0) throw new Error(`${name} was never applied`);
    ran.push(...step);
  }
  return ran;
}

describe('database layer', () => {
  it('keeps calendar dates as plain strings and int8 as numbers', async () => {
    const r = await sql<{ d: unknown; n: unknown }>`SELECT date '2024-04-01' AS d, 42::int8 AS n`.execute(
      handle.db,
    );
    expect(r.rows[0]).toEqual({ d: '2024-04-01', n: 42 });
  });

  it('gives every table a municipality code', async () => {
    const r = await sql<{ table_name: string }>`
      SELECT t.table_name FROM information_schema.tables t
      WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
        AND t.table_name NOT LIKE 'kysely_%'
        AND NOT EXISTS (SELECT 1 FROM information_schema.columns c
          WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'lg_code')`.execute(
      handle.db,
    );
    expect(r.rows).toEqual([]);
  });

  it('refuses to update or delete append-only history', async () => {
    const change = await insertMunicipalityAndChange('999016');
    await expect(
      handle.db
        .updateTable('change')
        .set({ reason: 'x' })
        .where('change_id', '=', change.change_id)
        .execute(),
    ).rejects.toThrow(/append-only/);
    await expect(
      handle.db.deleteFrom('change').where('change_id', '=', change.change_id).execute(),
    ).rejects.toThrow(/append-only/);
  });

  it('refuses to undo 0017 once a snapshot stores a repeated search value as null', async () => {
    const { change_id } = await insertMunicipalityAndChange('999024');
    await sql`
      INSERT INTO resident_history (lg_code, person_no, history_seq, change_id, status, name_norm, kana_norm,
        other_names_norm, address_norm, sex, record)
      VALUES ('999024', '0000000019', 2, ${change_id}, 'current', NULL, NULL, NULL, 'x', 'male', '{}')`.execute(
      handle.db,
    );
    const undone = await migrateDownThrough('0018_numbers_once');
    await expect(migrateDown(handle.db)).rejects.toMatchObject({
      message: expect.stringMatching(/0017_search_columns_once failed/),
      cause: { message: expect.stringMatching(/cannot be undone: 1 snapshots of resident_history/) },
    });
    expect(await migrateToLatest(handle.db)).toEqual(undone.map((d) => d.replace('Down', 'Up')).reverse());
    await handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jumin.allow_delete = 'on'`.execute(trx);
      await trx.deleteFrom('resident_history').where('lg_code', '=', '999024').execute();
    });
  });

  it('fills in the flow counts of the change rows written before 0019 from their snapshots', async () => {
    const undone = await migrateDownThrough('0019_flow_counts');
    await handle.db.insertInto('municipality').values({ lg_code: '999032', name: 'テスト市' }).execute();
    // An entry of two persons (B foreign); a 転居 that set A's address on its day and only re-set B's
    // relationship; the removal of B; a change without snapshots.
    const changes = await sql<{ change_id: number }>`
      INSERT INTO change (lg_code, change_type, change_kind, reason, effective_date, processed_on, staff_id,
        terminal_id, payload)
      VALUES ('999032', 'moveIn', 'entry', 'domesticMoveIn', '2026-01-01', '2026-01-01', 's', 't', '{}'),
             ('999032', 'moveWithin', 'correction', 'moveWithin', '2026-02-01', '2026-02-01', 's', 't', '{}'),
             ('999032', 'moveOut', 'removal', 'domesticMoveOut', '2026-03-01', '2026-03-01', 's', 't', '{}'),
             ('999032', 'correct', 'correction', 'exOfficioCorrection', '2026-04-01', '2026-04-01', 's', 't', '{}')
      RETURNING change_id`.execute(handle.db);
    const [entry, move, removal] = changes.rows.map((r) => r.change_id);
    const snapshot = (
      person: string,
      seq: number,
      change: number | undefined,
      status: string,
      record: object,
    ) =>
      sql`(${'999032'}, ${person}, ${seq}, ${change}, ${status}, 'x', 'male', ${JSON.stringify(record)}::jsonb)`;
    await sql`
      INSERT INTO resident_history (lg_code, person_no, history_seq, change_id, status, address_norm, sex, record)
      VALUES ${sql.join([
        snapshot('0000000027', 1, entry, 'current', { kind: 'japanese', addressSetOn: '2026-01-01' }),
        snapshot('0000000035', 1, entry, 'current', { kind: 'foreign', addressSetOn: '2026-01-01' }),
        snapshot('0000000027', 2, move, 'current', { kind: 'japanese', addressSetOn: '2026-02-01' }),
        snapshot('0000000035', 2, move, 'current', { kind: 'foreign', addressSetOn: '2026-01-01' }),
        snapshot('0000000035', 3, removal, 'removed', { kind: 'foreign', addressSetOn: '2026-01-01' }),
      ])}`.execute(handle.db);
    expect(await migrateToLatest(handle.db)).toEqual(undone.map((d) => d.replace('Down', 'Up')).reverse());
    const counts = await handle.db
      .selectFrom('change')
      .select(['flow_japanese', 'flow_foreign'])
      .where('lg_code', '=', '999032')
      .orderBy('change_id')
      .execute();
    expect(counts.map((c) => [c.flow_japanese, c.flow_foreign])).toEqual([
      [1, 1],
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
    // And a writer that leaves them out fails.
    await expect(
      sql`INSERT INTO change (lg_code, change_type, change_kind, reason, effective_date, processed_on, staff_id,
            terminal_id, payload)
          VALUES ('999032', 'x', 'entry', 'x', '2026-01-01', '2026-01-01', 's', 't', '{}')`.execute(
        handle.db,
      ),
    ).rejects.toThrow(/flow_japanese/);
    await handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jumin.allow_delete = 'on'`.execute(trx);
      await trx.deleteFrom('resident_history').where('lg_code', '=', '999032').execute();
    });
  });

  it('sends statements together: each runs after the one before and sees it; the first error is thrown', async () => {
    await handle.db
      .insertInto('municipality')
      .values({ lg_code: '999075', name: '前の市' })
      .onConflict((oc) => oc.column('lg_code').doNothing())
      .execute();
    const [updated, read] = await handle.db
      .transaction()
      .execute((trx) =>
        pipelined(trx, [
          trx
            .updateTable('municipality')
            .set({ name: '後の市' })
            .where('lg_code', '=', '999075')
            .returning('name'),
          trx.selectFrom('municipality').select('name').where('lg_code', '=', '999075'),
        ] as const),
      );
    expect(updated).toEqual([{ name: '後の市' }]);
    expect(read).toEqual([{ name: '後の市' }]);
    await expect(
      handle.db
        .transaction()
        .execute((trx) =>
          pipelined(trx, [
            trx.insertInto('municipality').values({ lg_code: '999075', name: '重複' }),
            trx.updateTable('municipality').set({ name: '残らない' }).where('lg_code', '=', '999075'),
          ] as const),
        ),
    ).rejects.toMatchObject({ code: '23505' });
    expect(
      await handle.db.selectFrom('municipality').select('name').where('lg_code', '=', '999075').execute(),
    ).toEqual([{ name: '後の市' }]);
  });

  it('migrates down and up again', async () => {
    await handle.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jumin.allow_delete = 'on'`.execute(trx);
      await trx.deleteFrom('change').execute();
      await sql`DELETE FROM municipality`.execute(trx);
    });
    const down: string[] = [];
    for (let ran = await migrateDown(handle.db); ran.length > 0; ran = await migrateDown(handle.db)) {
      down.push(...ran);
    }
    expect(down.at(-1)).toBe('Down 0001_register');
    const up = await migrateToLatest(handle.db);
    expect(up.map((u) => u.replace('Up', 'Down')).reverse()).toEqual(down);
  });
});

describe.runIf(process.env['DATABASE_URL'])('the PostgreSQL pools', () => {
  beforeAll(async () => {
    await handle.db
      .insertInto('municipality')
      .values({ lg_code: '999016', name: 'テスト市' })
      .onConflict((oc) => oc.column('lg_code').doNothing())
      .execute();
  });

  it('prepares the statements of the prepared pool once per connection and runs them by name', async () => {
    const preparedDb = handle.preparedDb!;
    const { named, plain } = await preparedDb.transaction().execute(async (trx) => {
      const lookup = (code: string) =>
        trx.selectFrom('municipality').select('name').where('lg_code', '=', code).executeTakeFirst();
      // The same text with other values: one prepared statement, each run answering for its own values.
      expect(await lookup('999016')).toEqual({ name: 'テスト市' });
      expect(await lookup('000000')).toBeUndefined();
      expect(await lookup('999016')).toEqual({ name: 'テスト市' });
      const prepared = await sql<{ name: string; statement: string }>`
        SELECT name, statement FROM pg_prepared_statements WHERE statement LIKE '%municipality%'`.execute(
        trx,
      );
      return { named: prepared.rows, plain: await sql<{ n: number }>`SELECT 1 AS n`.execute(trx) };
    });
    expect(named).toHaveLength(1);
    expect(named[0]!.name).toMatch(/^jumin_/);
    expect(plain.rows).toEqual([{ n: 1 }]);
    // The main pool, where searches run, prepares nothing.
    const main = await handle.db.transaction().execute(async (trx) => {
      await trx.selectFrom('municipality').select('name').where('lg_code', '=', '999016').execute();
      return (await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`.execute(trx))
        .rows[0]!.n;
    });
    expect(main).toBe(0);
  });

  describe('statements whose reply is not read', () => {
    const names = async (codes: string[]) =>
      (
        await handle.db
          .selectFrom('municipality')
          .select('lg_code')
          .where('lg_code', 'in', codes)
          .orderBy('lg_code')
          .execute()
      ).map((r) => r.lg_code);
    const insert = (code: string) =>
      unreadReply(sql`INSERT INTO municipality (lg_code, name) VALUES (${code}, 'パイプ市')`);

    it('answer at once, and the next statement waits for them, on both pools', async () => {
      for (const [db, code] of [
        [handle.db, '999024'],
        [handle.preparedDb!, '999032'],
      ] as const) {
        // Another connection holds the row: an update of it waits on the server until that one commits.
        const other = await handle.connect!();
        await other.query('BEGIN');
        await other.query(`SELECT 1 FROM municipality WHERE lg_code = '999016' FOR UPDATE`);
        const name = await db.transaction().execute(async (trx) => {
          // Were the update awaited like any statement, it would wait for the lock until the timeout.
          await sql`SET LOCAL lock_timeout = '20s'`.execute(trx);
          const sent = await unreadReply(
            sql`UPDATE municipality SET name = 'テスト市' WHERE lg_code = '999016'`,
          ).execute(trx);
          expect(sent.rows).toEqual([]);
          await insert(code).execute(trx);
          await other.query('COMMIT');
          return (
            await trx.selectFrom('municipality').select('name').where('lg_code', '=', code).executeTakeFirst()
          )?.name;
        });
        await other.end();
        expect(name).toBe('パイプ市');
        expect(await names([code])).toEqual([code]);
      }
    });

    it('fail the next statement or the commit with their error, and nothing of the transaction stays', async () => {
      const duplicate = { code: '23505' };
      // The next statement fails with the write's error, not its own "transaction is aborted".
      await expect(
        handle.preparedDb!.transaction().execute(async (trx) => {
          await insert('999041').execute(trx);
          await insert('999016').execute(trx);
          await trx.selectFrom('municipality').select('name').execute();
        }),
      ).rejects.toMatchObject(duplicate);
      // The last statement before the commit: the commit fails (PostgreSQL turned it into a rollback).
      await expect(
        handle.preparedDb!.transaction().execute(async (trx) => {
          await insert('999059').execute(trx);
          await insert('999016').execute(trx);
        }),
      ).rejects.toMatchObject(duplicate);
      // The caller failed on its own meanwhile: its error is the one reported, and the rollback undoes all.
      await expect(
        handle.db.transaction().execute(async (trx) => {
          await insert('999067').execute(trx);
          await insert('999016').execute(trx);
          throw new Error('the caller gave up');
        }),
      ).rejects.toThrow('the caller gave up');
      expect(await names(['999041', '999059', '999067'])).toEqual([]);
      // Outside a transaction no later statement is sure to come: it is awaited as any other.
      await expect(insert('999016').execute(handle.preparedDb!)).rejects.toMatchObject(duplicate);
      // And the connections go on serving transactions.
      for (const db of [handle.db, handle.preparedDb!]) {
        await Promise.all(
          [0, 1, 2, 3, 4, 5].map(() =>
            db.transaction().execute(async (trx) => {
              expect(
                await trx.selectFrom('municipality').select('name').where('lg_code', '=', '999016').execute(),
              ).toEqual([{ name: 'テスト市' }]);
            }),
          ),
        );
      }
    });
  });

  it('commits on the autonomous pool at once, outside any open transaction of the main pool', async () => {
    const autonomous = handle.autonomous!;
    const counter = (db: typeof handle.db) =>
      db.selectFrom('number_counter').select('last_value').where('lg_code', '=', '999016').executeTakeFirst();
    await handle.db.transaction().execute(async (trx) => {
      expect(await counter(trx)).toBeUndefined();
      await autonomous
        .insertInto('number_counter')
        .values({ lg_code: '999016', kind: 'person', last_value: 7 })
        .execute();
      // The open transaction already sees it: the statement committed on its own.
      expect(await counter(trx)).toEqual({ last_value: 7 });
    });
    const { rows } = await sql<{
      setting: string;
    }>`SELECT current_setting('synchronous_commit') AS setting`.execute(autonomous);
    expect(rows[0]!.setting).toBe('off');
  });
});
