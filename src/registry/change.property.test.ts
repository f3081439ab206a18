/**
 * Property test of the change engine: random sequences of changes — valid or not — never break the
 * register's invariants, and a refused change writes nothing.
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError } from '../shared/index.js';
import type { ChangeService } from './change.service.js';
import { ensureMunicipality } from './resident.repository.js';
import { ADDRESS_2, TEST_LG_CODE, actor, moveInOf, person, registryServices, testClock } from './testing.js';

let handle: DatabaseHandle;
let changes: ChangeService;

beforeAll(async () => {
  handle = await openTestDatabase();
  ({ changes } = registryServices(handle, testClock()));
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
});
afterAll(async () => {
  await handle.close();
});

const RELATIONSHIPS = ['世帯主', '妻', '子', '父', '子の子', '同居人'] as const;

type Command =
  | { op: 'moveIn'; relationships: string[] }
  | { op: 'join'; pick: number; relationship: string }
  | { op: 'birth'; pick: number }
  | { op: 'moveWithin'; pick: number }
  | { op: 'death'; pick: number }
  | { op: 'headChange'; pick: number; head: number }
  | { op: 'split'; pick: number }
  | { op: 'cancel'; back: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    op: fc.constant('moveIn' as const),
    relationships: fc.array(fc.constantFrom(...RELATIONSHIPS), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    op: fc.constant('join' as const),
    pick: fc.nat(),
    relationship: fc.constantFrom(...RELATIONSHIPS),
  }),
  fc.record({ op: fc.constant('birth' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('moveWithin' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('death' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('headChange' as const), pick: fc.nat(), head: fc.nat() }),
  fc.record({ op: fc.constant('split' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('cancel' as const), back: fc.nat({ max: 5 }) }),
);

async function counts() {
  const r = await sql<{ c: number; h: number; o: number }>`
    SELECT (SELECT count(*) FROM change)::int AS c, (SELECT count(*) FROM resident_history)::int AS h,
           (SELECT count(*) FROM outbox)::int AS o`.execute(handle.db);
  return r.rows[0]!;
}

async function households(): Promise<string[]> {
  const rows = await handle.db
    .selectFrom('resident')
    .select('household_no')
    .distinct()
    .where('status', '=', 'current')
    .orderBy('household_no')
    .execute();
  return rows.map((r) => r.household_no!);
}

async function members(
  householdNo: string,
): Promise<Array<{ person_no: string; relationship: string | null }>> {
  return handle.db
    .selectFrom('resident')
    .select(['person_no', 'relationship'])
    .where('household_no', '=', householdNo)
    .where('status', '=', 'current')
    .orderBy('household_order')
    .execute();
}

const at = <T>(xs: readonly T[], i: number): T | undefined =>
  xs.length === 0 ? undefined : xs[i % xs.length];

async function run(c: Command, changeIds: number[]): Promise<void> {
  const hs = await households();
  const day = { effectiveDate: '2026-11-26', notifiedOn: '2026-11-26' };
  switch (c.op) {
    case 'moveIn': {
      const r = await changes.moveIn(
        actor,
        moveInOf(c.relationships.map((relationship) => person({ relationship }))),
      );
      changeIds.push(r.changeId);
      return;
    }
    case 'join': {
      const h = at(hs, c.pick);
      if (!h) return;
      const r = await changes.moveIn(
        actor,
        moveInOf([person({ relationship: c.relationship })], { household: { mode: 'join', householdNo: h } }),
      );
      changeIds.push(r.changeId);
      return;
    }
    case 'birth': {
      const h = at(hs, c.pick);
      if (!h) return;
      const r = await changes.birth(actor, {
        ...day,
        householdNo: h,
        child: person({ relationship: '子', birthDate: '2026-11-26' }),
      });
      changeIds.push(r.changeId);
      return;
    }
    case 'moveWithin': {
      const h = at(hs, c.pick);
      if (!h) return;
      const ms = await members(h);
      const r = await changes.moveWithin(actor, {
        ...day,
        personNos: ms.map((m) => m.person_no),
        address: ADDRESS_2,
        household: { mode: 'same' },
      });
      changeIds.push(r.changeId);
      return;
    }
    case 'death': {
      const h = at(hs, c.pick);
      if (!h) return;
      const m = at(await members(h), c.pick);
      if (!m) return;
      const r = await changes.death(actor, { ...day, personNo: m.person_no, deathDate: '2026-11-26' });
      changeIds.push(r.changeId);
      return;
    }
    case 'headChange': {
      const h = at(hs, c.pick);
      if (!h) return;
      const ms = await members(h);
      const head = c.head % ms.length;
      const r = await changes.headChange(actor, {
        ...day,
        householdNo: h,
        relationships: ms.map((m, i) => ({
          personNo: m.person_no,
          relationship: i === head ? '世帯主' : '同居人',
        })),
      });
      changeIds.push(r.changeId);
      return;
    }
    case 'split': {
      const h = at(hs, c.pick);
      if (!h) return;
      const m = at(await members(h), c.pick);
      if (!m) return;
      const r = await changes.householdSplit(actor, {
        ...day,
        householdNo: h,
        members: [{ personNo: m.person_no, relationship: '世帯主' }],
      });
      changeIds.push(r.changeId);
      return;
    }
    case 'cancel': {
      const id = changeIds[changeIds.length - 1 - (c.back % Math.max(changeIds.length, 1))];
      if (id === undefined) return;
      await changes.cancel(actor, { changeId: id });
      return;
    }
  }
}

async function checkInvariants(): Promise<void> {
  // The current record is the highest 履歴番号, and 履歴番号 run 1..n without gaps.
  const broken = await sql<{ person_no: string }>`
    SELECT r.person_no FROM resident r
    JOIN (SELECT person_no, max(history_seq) AS m, count(*) AS n FROM resident_history GROUP BY person_no) h
      ON h.person_no = r.person_no
    JOIN resident_history last ON last.person_no = r.person_no AND last.history_seq = h.m
    WHERE h.m <> r.history_seq OR h.n <> h.m OR last.record <> r.record OR last.status <> r.status`.execute(
    handle.db,
  );
  expect(broken.rows).toEqual([]);
  // At most one head among the current members of any household.
  const twoHeads = await sql<{ household_no: string }>`
    SELECT household_no FROM resident WHERE status = 'current' AND relationship = '世帯主'
    GROUP BY household_no HAVING count(*) > 1`.execute(handle.db);
  expect(twoHeads.rows).toEqual([]);
  // Every change wrote at least one snapshot, and at least one outbox message per snapshot.
  const c = await counts();
  const empty = await sql<{ change_id: number }>`
    SELECT change_id FROM change c WHERE NOT EXISTS (SELECT 1 FROM resident_history h WHERE h.change_id = c.change_id)`.execute(
    handle.db,
  );
  expect(empty.rows).toEqual([]);
  expect(c.o).toBeGreaterThanOrEqual(c.h);
}

describe('the change engine', () => {
  it('keeps the register consistent under any sequence of changes', { timeout: 240_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 3, maxLength: 12 }), async (commands) => {
        const changeIds: number[] = [];
        for (const c of commands) {
          const before = await counts();
          try {
            await run(c, changeIds);
          } catch (e) {
            if (!(e instanceof DomainError)) throw e;
            expect(await counts()).toEqual(before);
          }
          await checkInvariants();
        }
      }),
      { numRuns: 30, seed: 20240401 },
    );
  });
});
