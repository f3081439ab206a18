import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDown, migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';

let handle: DatabaseHandle;

beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(async () => {
  await handle.close();
});

describe('migration 0008_keys', () => {
  it('reverts on an empty database, and refuses a database holding 個人番号 in clear', async () => {
    // Back to the state before 0008 (the migrations after it first).
    const reverted: string[] = [];
    for (let i = 0; i < 30 && !reverted.includes('Down 0008_keys'); i++) {
      reverted.push(...(await migrateDown(handle.db)));
    }
    expect(reverted.at(-1)).toBe('Down 0008_keys');
    // A register written before 0008: the 個人番号 in its clear column and in the record.
    await sql`
      INSERT INTO municipality (lg_code, name) VALUES ('999016', '架空市');
      INSERT INTO change (lg_code, change_type, change_kind, reason, effective_date, processed_on, staff_id,
        terminal_id, payload)
        VALUES ('999016', 'moveIn', 'entry', 'domesticMoveIn', '2026-01-01', '2026-01-01', 's', 't', '{}');
      INSERT INTO resident_history (lg_code, person_no, history_seq, change_id, status, name_norm, kana_norm,
        other_names_norm, address_norm, sex, my_number, record)
        SELECT '999016', '0000000017', 1, change_id, 'current', '', '', '', '', 'male', '123456789018',
          '{"myNumber": "123456789018"}' FROM change;
    `.execute(handle.db);
    const error = await migrateToLatest(handle.db).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
    expect(error?.message).toBe('migration 0008_keys failed');
    expect(error?.cause?.message).toMatch(
      /個人番号 or staff TOTP secrets in clear.*delete the embedded demo database/,
    );
    // Nothing of it was applied.
    const columns = await sql<{ c: string }>`
      SELECT column_name AS c FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'resident_history' AND column_name LIKE 'my_number%'`.execute(
      handle.db,
    );
    expect(columns.rows.map((r) => r.c)).toEqual(['my_number']);
  });
});
