import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { testKeyring } from '../keys/testing.js';
import { DomainError, parsePlainDate, type Actor, type FixedClock } from '../shared/index.js';
import type { AuditSettings } from './access.js';
import type { ChangeService } from './change.service.js';
import { loadPopulation } from './population.loader.js';
import { ensureMunicipality } from './resident.repository.js';
import { householdsAsOf, populationAsOf } from './statistics.repository.js';
import { StatisticsService } from './statistics.service.js';
import {
  ageBandOf,
  areaSortKey,
  ageOnDay,
  splitArea,
  type AnnualStatistics,
  type KindCounts,
  resolvePeriod,
  StatisticsQuery,
} from './statistics.js';
import {
  ADDRESS,
  ADDRESS_2,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  person,
  registryServices,
  testClock,
} from './testing.js';

let handle: DatabaseHandle;
let clock: FixedClock;
let changes: ChangeService;
let stats: StatisticsService;
let audit: AuditSettings;

const kc = (japanese: number, foreign: number): KindCounts => ({
  japanese,
  foreign,
  total: japanese + foreign,
});

describe('pure rules', () => {
  it('counts ages by the calendar rule and bands them', () => {
    expect(ageOnDay('1990-11-26', '2026-11-26')).toBe(36);
    expect(ageOnDay('1990-11-27', '2026-11-26')).toBe(35);
    expect(ageOnDay('2000-02-29', '2026-02-28')).toBe(25);
    expect(ageOnDay('2000-02-29', '2026-03-01')).toBe(26);
    expect(ageBandOf(0)).toBe('0-4');
    expect(ageBandOf(64)).toBe('60-64');
    expect(ageBandOf(104)).toBe('100+');
    expect(ageBandOf(null)).toBe('unknown');
  });

  it('splits an address into ward and 町丁目', () => {
    expect(splitArea('架空市中央区本町一丁目')).toEqual({ ward: '中央区', town: '本町一丁目' });
    expect(splitArea('架空市本町')).toEqual({ ward: '', town: '本町' });
    expect(['本町十一丁目', '本町二丁目', '本町十丁目'].map(areaSortKey)).toEqual([
      '本町11丁目',
      '本町2丁目',
      '本町10丁目',
    ]);
  });

  it('defaults the flow period to the year before the day, and refuses a half or reversed period', () => {
    const today = parsePlainDate('2026-11-26');
    const period = (q: StatisticsQuery) => resolvePeriod(StatisticsQuery.parse(q), today);
    expect(period({ asOf: '2026-01-01' })).toEqual({
      asOf: '2026-01-01',
      from: '2025-01-01',
      to: '2025-12-31',
    });
    expect(() => period({ from: '2026-01-01' })).toThrow(DomainError);
    expect(() => period({ from: '2026-02-01', to: '2026-01-01' })).toThrow(DomainError);
  });
});

describe('annual statistics on a small register built through ChangeService', () => {
  let cancelledPersonNo: string;

  beforeAll(async () => {
    handle = await openTestDatabase();
    clock = testClock();
    const services = registryServices(handle, clock);
    changes = services.changes;
    // On PostgreSQL the aggregates run side by side, each on its own connection in one snapshot.
    audit = services.audit;
    stats = new StatisticsService(handle.db, audit, { parallel: handle.kind === 'postgres' });
    await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');

    // P moves in and plans on 2026-10-01 to move out on 2026-10-20; the daily removal job never runs.
    clock.setDay('2026-10-01');
    const p = await changes.moveIn(
      actor,
      moveInOf([person({ sex: 'male' })], { effectiveDate: '2026-01-05', notifiedOn: '2026-01-05' }),
    );
    await changes.moveOut(actor, {
      notifiedOn: '2026-10-01',
      plannedDate: '2026-10-20',
      personNos: [p.persons[0]!.personNo],
      destination: { text: '東京都千代田区千代田1番1号', abroad: false },
    });
    clock.setDay('2026-11-26');

    // H1: A and B move in; C is born; M (foreign) joins on 2026-04-15.
    const h1 = await changes.moveIn(
      actor,
      moveInOf(
        [
          person({ sex: 'male', birthDate: '1980-05-05' }),
          person({ sex: 'female', birthDate: '1985-03-01', relationship: '妻' }),
        ],
        { effectiveDate: '2026-01-10' },
      ),
    );
    await changes.birth(actor, {
      effectiveDate: '2026-02-01',
      notifiedOn: '2026-02-05',
      householdNo: h1.householdNos[0]!,
      child: person({ sex: 'female', birthDate: '2026-02-01', relationship: '子' }),
    });
    await changes.moveIn(
      actor,
      moveInOf([foreignPerson({ sex: 'female', birthDate: '1990-11-26', relationship: '同居人' })], {
        effectiveDate: '2026-04-15',
        household: { mode: 'join', householdNo: h1.householdNos[0]! },
      }),
    );
    // F (foreign) moves in from abroad at ADDRESS_2 (北区), then within the city to ADDRESS (中央区).
    const f = await changes.moveIn(
      actor,
      moveInOf([foreignPerson({ birthDate: '1980-05-05' })], {
        effectiveDate: '2026-03-01',
        origin: 'abroad',
        address: ADDRESS_2,
        previousAddress: { text: 'アメリカ合衆国', abroad: true },
      }),
    );
    await changes.moveWithin(actor, {
      effectiveDate: '2026-09-01',
      notifiedOn: '2026-09-02',
      personNos: [f.persons[0]!.personNo],
      address: ADDRESS,
      household: { mode: 'same' },
    });
    // D moves in and dies on 2026-06-01.
    const d = await changes.moveIn(
      actor,
      moveInOf([person({ sex: 'male', birthDate: '1950-01-01' })], { effectiveDate: '2026-01-05' }),
    );
    await changes.death(actor, {
      effectiveDate: '2026-06-01',
      notifiedOn: '2026-06-02',
      personNo: d.persons[0]!.personNo,
      deathDate: '2026-06-01',
    });
    // E moves in and plans to move out on 2026-12-15 (after today): still current.
    const e = await changes.moveIn(
      actor,
      moveInOf([person({ sex: 'female', birthDate: '2000-12-31' })], { effectiveDate: '2026-01-05' }),
    );
    await changes.moveOut(actor, {
      notifiedOn: '2026-11-20',
      plannedDate: '2026-12-15',
      personNos: [e.persons[0]!.personNo],
      destination: { text: '東京都千代田区千代田1番1号', abroad: false },
    });
    // G moves in and moves out on 2026-04-01.
    const g = await changes.moveIn(
      actor,
      moveInOf([person({ sex: 'male', birthDate: '1970-07-07' })], { effectiveDate: '2026-01-05' }),
    );
    await changes.moveOut(actor, {
      notifiedOn: '2026-04-01',
      plannedDate: '2026-04-01',
      personNos: [g.persons[0]!.personNo],
      destination: { text: '東京都千代田区千代田1番1号', abroad: false },
    });
    // X's move-in on 2026-05-01 is cancelled: X never counts.
    const x = await changes.moveIn(
      actor,
      moveInOf([person({ sex: 'male' })], { effectiveDate: '2026-05-01' }),
    );
    cancelledPersonNo = x.persons[0]!.personNo;
    await changes.cancel(actor, { changeId: x.changeId });
  });
  afterAll(async () => {
    await handle.close();
  });

  const areaTotal = (s: AnnualStatistics, ward: string, town?: string) =>
    s.byArea.find((a) => a.ward === ward && a.town === town)?.population.total;

  it('counts the stock as of today: pending movers current until their planned date', async () => {
    const s = await stats.annualStatistics(actor);
    expect(s.period).toEqual({ asOf: '2026-11-26', from: '2025-11-26', to: '2026-11-25' });
    // A, B, C, E (Japanese); F, M (foreign). P's planned date has passed; D died; G moved out; X cancelled.
    expect(s.population.total.total).toEqual(kc(4, 2));
    expect(s.population.total.male).toEqual(kc(1, 1));
    expect(s.population.total.female).toEqual(kc(3, 1));
    const band = (b: string) => s.population.byAgeBand.find((x) => x.band === b)!;
    expect(band('0-4').female).toEqual(kc(1, 0));
    expect(band('25-29').female).toEqual(kc(1, 0));
    expect(band('35-39').female).toEqual(kc(0, 1)); // M turns 36 today
    expect(band('40-44').female).toEqual(kc(1, 0));
    expect(band('45-49').male).toEqual(kc(1, 1));
    expect(s.population.byAgeGroup.find((x) => x.group === '0-14')!.total).toEqual(kc(1, 0));
    expect(s.population.byAgeGroup.find((x) => x.group === '15-64')!.total).toEqual(kc(3, 2));
    expect(s.households).toEqual({ japaneseOnly: 1, foreignOnly: 1, mixed: 1, total: 3 });
    expect(areaTotal(s, '中央区')).toEqual(kc(4, 2));
    expect(areaTotal(s, '中央区', '本町一丁目')).toEqual(kc(4, 2));
    expect(areaTotal(s, '北区')).toBeUndefined();
  });

  it('reconstructs the stock of a past day from the history', async () => {
    const s = await stats.annualStatistics(actor, { asOf: '2026-03-15' });
    // A, B, C, D, E, G, P (Japanese); F (foreign, still in 北区). M joins and X enters later.
    expect(s.population.total.total).toEqual(kc(7, 1));
    expect(s.households).toEqual({ japaneseOnly: 5, foreignOnly: 1, mixed: 0, total: 6 });
    expect(areaTotal(s, '北区', '緑町三丁目')).toEqual(kc(0, 1));
    expect(areaTotal(s, '中央区')).toEqual(kc(7, 0));

    const may = await stats.annualStatistics(actor, { asOf: '2026-05-15' });
    // G has moved out; M has joined H1 (now 複数国籍); X's cancelled entry never counts.
    expect(may.population.total.total).toEqual(kc(6, 2));
    expect(may.households).toEqual({ japaneseOnly: 3, foreignOnly: 1, mixed: 1, total: 5 });
    expect(cancelledPersonNo).toBeDefined();

    // P counts until the day before the planned date, not on it.
    const before = await stats.annualStatistics(actor, { asOf: '2026-10-19' });
    const on = await stats.annualStatistics(actor, { asOf: '2026-10-20' });
    expect(before.population.total.total.japanese - on.population.total.total.japanese).toBe(1);
    // E's planned move-out on 2026-12-15 takes effect for a later day.
    const december = await stats.annualStatistics(actor, { asOf: '2026-12-15' });
    expect(december.population.total.total).toEqual(kc(3, 2));
    // Before anyone moved in.
    const empty = await stats.annualStatistics(actor, { asOf: '2025-12-31' });
    expect(empty.population.total.total).toEqual(kc(0, 0));
    expect(empty.households.total).toBe(0);
  });

  it('counts the flows of a period by reason and kind, without cancelled changes', async () => {
    const s = await stats.annualStatistics(actor, { from: '2026-01-01', to: '2026-11-26' });
    const f = s.flows;
    expect(f.moveIn.domestic).toEqual(kc(6, 1)); // A, B, D, E, G, P; M (X cancelled)
    expect(f.moveIn.abroad).toEqual(kc(0, 1)); // F
    expect(f.birth).toEqual(kc(1, 0));
    expect(f.death).toEqual(kc(1, 0));
    expect(f.moveOut.domestic).toEqual(kc(1, 0)); // G; P's and E's are only planned
    expect(f.moveOut.abroad).toEqual(kc(0, 0));
    expect(f.byReason.find((r) => r.reason === 'moveWithin')!.counts).toEqual(kc(0, 1));
    expect(f.byReason.find((r) => r.reason === 'plannedMoveOut')).toBeUndefined();
    expect(f.naturalChange).toEqual(kc(0, 0));
    expect(f.socialChange).toEqual(kc(5, 2));
    const march = await stats.annualStatistics(actor, { from: '2026-03-01', to: '2026-03-31' });
    expect(march.flows.entries).toEqual(kc(0, 1));
  });

  it.runIf(process.env['DATABASE_URL'])(
    'gives the same figures side by side as one after another',
    async () => {
      const sequential = new StatisticsService(handle.db, audit, { parallel: false });
      for (const query of [{}, { asOf: '2026-03-15' }, { from: '2026-01-01', to: '2026-11-26' }]) {
        const one = await sequential.annualStatistics(actor, query);
        expect(await stats.annualStatistics(actor, query)).toEqual(one);
      }
    },
  );

  it('writes one access-log entry without personal data, and refuses without the batch permission', async () => {
    const before = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM access_log WHERE function = 'batch'`.execute(handle.db);
    await stats.annualStatistics(actor, { asOf: '2026-03-15' });
    const { rows } = await sql<{
      outcome: string;
      target_persons: string[];
      details: Record<string, unknown>;
    }>`
      SELECT outcome, target_persons, details FROM access_log
      WHERE function = 'batch' ORDER BY seq DESC LIMIT 1`.execute(handle.db);
    expect(rows[0]).toMatchObject({
      outcome: 'success',
      target_persons: [],
      details: { job: 'statistics', asOf: '2026-03-15', population: 8, households: 6 },
    });

    const clerk: Actor = { ...actor, staffId: 'clerk-01', permissions: new Set(['inquiry', 'change']) };
    const error = await stats.annualStatistics(clerk).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('FORBIDDEN');
    const after = await sql<{ outcome: string; staff_id: string; details: Record<string, unknown> }>`
      SELECT outcome, staff_id, details FROM access_log
      WHERE function = 'batch' ORDER BY seq DESC LIMIT 1`.execute(handle.db);
    expect(after.rows[0]).toMatchObject({
      outcome: 'refused',
      staff_id: 'clerk-01',
      details: { job: 'statistics', code: 'FORBIDDEN' },
    });
    const total = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM access_log WHERE function = 'batch'`.execute(handle.db);
    expect(total.rows[0]!.n - before.rows[0]!.n).toBe(2);
  });

  it('totals a generated population as the current residents counted independently', async () => {
    const services = registryServices(handle, clock);
    await loadPopulation({
      db: handle.db,
      keyring: testKeyring(handle.db),
      audit: services.audit,
      actor,
      seed: 5,
      residents: 2000,
      batchHouseholds: 200,
    });
    const s = await stats.annualStatistics(actor);
    const { rows } = await sql<{ japanese: number; foreign: number; households: number }>`
      SELECT count(*) FILTER (WHERE kind = 'japanese')::int AS japanese,
             count(*) FILTER (WHERE kind = 'foreign')::int AS foreign,
             count(DISTINCT household_no)::int AS households
      FROM resident
      WHERE lg_code = ${TEST_LG_CODE} AND status = 'current'
        AND (planned_move_out IS NULL OR planned_move_out > ${'2026-11-26'}::date)`.execute(handle.db);
    const expected = rows[0]!;
    expect(expected.japanese + expected.foreign).toBeGreaterThan(1500);
    expect(s.population.total.total).toEqual(kc(expected.japanese, expected.foreign));
    expect(s.households.total).toBe(expected.households);
    const bandSum = s.population.byAgeBand.reduce((n, b) => n + b.total.total, 0);
    expect(bandSum).toBe(s.population.total.total.total);
    const wardSum = s.byArea
      .filter((a) => a.town === undefined)
      .reduce((n, a) => n + a.population.total.total, 0);
    expect(wardSum).toBe(s.population.total.total.total);
  });

  it("reconstructs past days as a walk of every person's whole history does", async () => {
    // On top of the small register and the generated population (whose histories span decades): a 転居
    // that is cancelled, and a 転居 entered after a later-dated one but dated before it.
    const { rows: picked } = await sql<{ person_no: string }>`
      SELECT min(person_no) AS person_no FROM resident
      WHERE lg_code = ${TEST_LG_CODE} AND status = 'current' AND planned_move_out IS NULL
      GROUP BY household_no HAVING count(*) = 1
      ORDER BY 1 LIMIT 2`.execute(handle.db);
    const [first, second] = picked.map((r) => r.person_no);
    const moveWithin = (personNo: string, effectiveDate: string) =>
      changes.moveWithin(actor, {
        effectiveDate,
        notifiedOn: effectiveDate,
        personNos: [personNo],
        address: ADDRESS_2,
        household: { mode: 'same' },
      });
    const cancelled = await moveWithin(first!, '2026-05-01');
    await changes.cancel(actor, { changeId: cancelled.changeId });
    await moveWithin(second!, '2026-06-01');
    await moveWithin(second!, '2026-03-01');

    const { rows } = await sql<{
      person_no: string;
      status: string;
      household_no: string;
      kind: string;
      sex: string;
      birth: string;
      area: string;
      planned: string | null;
      effective: string;
      valid: boolean;
    }>`
      SELECT h.person_no, h.status, h.household_no, h.record->>'kind' AS kind, h.sex,
             coalesce(h.record->'birthDate'->>'date', h.record->'birthDate'->>'sortKey') AS birth, substring(h.record->'address'->>'text' FROM '^[^0-9０-９]*') AS area,
             h.record->'plannedMoveOut'->>'plannedDate' AS planned, c.effective_date::text AS effective,
             (c.cancels_change_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM change x WHERE x.cancels_change_id = c.change_id)) AS valid
      FROM resident_history_all h JOIN change c ON c.change_id = h.change_id
      WHERE h.lg_code = ${TEST_LG_CODE}
      ORDER BY h.person_no, h.history_seq`.execute(handle.db);
    const histories = new Map<string, typeof rows>();
    for (const r of rows) {
      if (!r.valid) continue;
      const list = histories.get(r.person_no) ?? [];
      list.push(r);
      histories.set(r.person_no, list);
    }
    const tally = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
    // The rule itself: a snapshot is in force from the latest effective date of it and every valid
    // snapshot before it; the one in force at the end of the day counts if current and not yet moved out.
    const walk = (day: string) => {
      const persons = new Map<string, number>();
      const members = new Map<string, Array<(typeof rows)[number]>>();
      let changedLater = 0;
      for (const list of histories.values()) {
        let inForce: (typeof rows)[number] | undefined;
        let from = '';
        for (const snap of list) {
          if (snap.effective > from) from = snap.effective;
          if (from <= day) inForce = snap;
        }
        if (list.some((snap) => snap.effective > day)) changedLater++;
        if (!inForce || inForce.status !== 'current') continue;
        if (inForce.planned !== null && inForce.planned <= day) continue;
        const age = Math.trunc(
          (Number(day.replaceAll('-', '')) - Number(inForce.birth.replaceAll('-', ''))) / 10000,
        );
        tally(persons, [inForce.kind, inForce.sex, age, inForce.area].join('|'));
        members.set(inForce.household_no, [...(members.get(inForce.household_no) ?? []), inForce]);
      }
      const households = new Map<string, number>();
      for (const list of members.values()) {
        const area = list.map((m) => m.area).sort()[0]!;
        const kinds = new Set(list.map((m) => m.kind));
        tally(households, [area, kinds.has('japanese'), kinds.has('foreign')].join('|'));
      }
      return { persons, households, changedLater };
    };
    const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    for (const day of ['2005-01-01', '2025-04-01', '2026-02-28', '2026-05-15', '2026-11-26']) {
      const expected = walk(day);
      const persons = new Map<string, number>();
      for (const c of await populationAsOf(handle.db, TEST_LG_CODE, day)) {
        persons.set([c.kind, c.sex, c.age, c.area].join('|'), c.persons);
      }
      const households = new Map<string, number>();
      for (const c of await householdsAsOf(handle.db, TEST_LG_CODE, day)) {
        households.set([c.area, c.hasJapanese, c.hasForeign].join('|'), c.households);
      }
      expect({ day, persons: sorted(persons), households: sorted(households) }).toEqual({
        day,
        persons: sorted(expected.persons),
        households: sorted(expected.households),
      });
      if (day < '2026') expect(expected.changedLater).toBeGreaterThan(100);
    }
  });

  it('stores on each change row the persons its snapshots count in the flows', async () => {
    // Every change so far: through ChangeService (entries, moves, removals, cancellations) and the loader.
    // The rule, over the snapshots, as the flows counted before migration 0019 (and as it fills old rows).
    const { rows } = await sql<{ change_id: number; stored: string; counted: string }>`
      SELECT c.change_id, c.flow_japanese || '/' || c.flow_foreign AS stored,
             count(h.*) FILTER (WHERE h.record->>'kind' <> 'foreign' AND h.counted) || '/' ||
             count(h.*) FILTER (WHERE h.record->>'kind' = 'foreign' AND h.counted) AS counted
        FROM change c
        LEFT JOIN LATERAL (
          SELECT s.record, CASE c.change_kind
                             WHEN 'entry' THEN s.history_seq = 1
                             WHEN 'removal' THEN s.status <> 'current'
                             ELSE s.record->>'addressSetOn' = c.effective_date::text
                           END AS counted
            FROM resident_history_all s WHERE s.change_id = c.change_id
        ) h ON true
       WHERE c.lg_code = ${TEST_LG_CODE}
       GROUP BY c.change_id`.execute(handle.db);
    expect(rows.length).toBeGreaterThan(2000);
    expect(rows.filter((r) => r.stored !== r.counted)).toEqual([]);
    // Not all zero: entries, removals and moves are counted, of both kinds.
    const sums = rows.reduce(
      (n, r) => {
        const [j, f] = r.stored.split('/').map(Number);
        return { japanese: n.japanese + j!, foreign: n.foreign + f! };
      },
      { japanese: 0, foreign: 0 },
    );
    expect(sums.japanese).toBeGreaterThan(2000);
    expect(sums.foreign).toBeGreaterThan(40);
  });
});
