import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { FixedClock, isHead, parseMyNumber, parseRelationship, parseResidentCode } from '../shared/index.js';
import { PERMISSIONS, type Actor } from '../shared/index.js';
import { DEMO_CITY_NAME, seedDemoData, type DemoDataSummary } from './demo-data.js';
import { ensureMunicipality } from './resident.repository.js';
import { ResidentRecord } from './resident.js';
import { registryServices } from './testing.js';
import { testKeyring } from '../keys/testing.js';
import { recordOf, snapshotMyNumberBinding } from './my-number.js';

const actor: Actor = {
  lgCode: '999016',
  staffId: 'demo',
  terminalId: 'seed',
  permissions: new Set(PERMISSIONS),
};
const NOW = '2026-11-26T01:00:00Z';

interface Seeded {
  handle: DatabaseHandle;
  summary: DemoDataSummary;
}

/** A fresh database seeded with the default seed. */
async function seeded(): Promise<Seeded> {
  const handle = await openTestDatabase();
  await ensureMunicipality(handle.db, actor.lgCode, DEMO_CITY_NAME);
  const clock = new FixedClock(NOW);
  const { changes } = registryServices(handle, clock);
  const summary = await seedDemoData(changes, actor, { today: clock.today() });
  return { handle, summary };
}

/** The current rows, each record with its 個人番号 decrypted back in (as the services read it). */
async function residents(handle: DatabaseHandle) {
  const keys = await testKeyring(handle.db).forMunicipality(actor.lgCode);
  const rows = await handle.db
    .selectFrom('resident as r')
    .innerJoin('resident_history as h', (j) =>
      j
        .onRef('h.lg_code', '=', 'r.lg_code')
        .onRef('h.person_no', '=', 'r.person_no')
        .onRef('h.history_seq', '=', 'r.history_seq'),
    )
    .select(['r.person_no', 'r.history_seq', 'r.status', 'r.household_no', 'r.relationship', 'r.record'])
    .select('h.my_number_enc')
    .where('r.lg_code', '=', actor.lgCode)
    .orderBy('r.person_no')
    .execute();
  return rows.map((r) => ({ ...r, record: recordOf(keys, r) }));
}

let first: Seeded;
let rows: Awaited<ReturnType<typeof residents>>;
let records: ResidentRecord[];
let secondSummary: DemoDataSummary;
let secondRows: Awaited<ReturnType<typeof residents>>;

beforeAll(async () => {
  const second = await seeded();
  try {
    secondSummary = second.summary;
    secondRows = await residents(second.handle);
  } finally {
    await second.handle.close();
  }
  first = await seeded();
  rows = await residents(first.handle);
  records = rows.map((r) => ResidentRecord.parse(r.record));
}, 120_000);

afterAll(async () => {
  await first?.handle.close();
});

describe('seedDemoData', () => {
  it('gives the same people, numbers and relationships for the same seed', () => {
    expect(secondRows.map((r) => [r.person_no, r.record])).toEqual(rows.map((r) => [r.person_no, r.record]));
    expect(secondSummary).toEqual(first.summary);
  });

  it('seeds about 150 households and 350–400 residents through the change service', async () => {
    const { summary } = first;
    expect(summary.households).toBeGreaterThanOrEqual(145);
    expect(summary.households).toBeLessThanOrEqual(170);
    expect(summary.residents).toBeGreaterThanOrEqual(330);
    expect(summary.residents).toBeLessThanOrEqual(420);
    expect(rows).toHaveLength(summary.residents);
    const changes = await first.handle.db
      .selectFrom('change')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('lg_code', '=', actor.lgCode)
      .executeTakeFirstOrThrow();
    expect(Number(changes.n)).toBe(summary.changes);
    // One single household in three or so, as in the census.
    const sizes = new Map<string, number>();
    for (const r of rows)
      if (r.status === 'current') sizes.set(r.household_no!, (sizes.get(r.household_no!) ?? 0) + 1);
    const singles = [...sizes.values()].filter((n) => n === 1).length / sizes.size;
    expect(singles).toBeGreaterThan(0.3);
    expect(singles).toBeLessThan(0.48);
  });

  it('gives every person a valid, distinct My Number and resident code, also in the history', async () => {
    const keys = await testKeyring(first.handle.db).forMunicipality(actor.lgCode);
    const history = (
      await first.handle.db
        .selectFrom('resident_history')
        .select(['person_no', 'history_seq', 'my_number_enc', 'resident_code'])
        .where('lg_code', '=', actor.lgCode)
        .execute()
    ).map((h) => ({
      ...h,
      my_number: h.my_number_enc
        ? keys.decrypt(snapshotMyNumberBinding(h.person_no, h.history_seq), h.my_number_enc)
        : null,
    }));
    for (const h of history) {
      expect(parseMyNumber(h.my_number!)).toBe(h.my_number);
      expect(parseResidentCode(h.resident_code!)).toBe(h.resident_code);
    }
    const holders = new Map<string, Set<string>>();
    for (const h of history) {
      for (const n of [h.my_number!, h.resident_code!]) {
        holders.set(n, (holders.get(n) ?? new Set()).add(h.person_no));
      }
    }
    expect([...holders.values()].filter((persons) => persons.size > 1)).toEqual([]);
    const myNumbers = records.map((r) => r.myNumber);
    expect(new Set(myNumbers).size).toBe(records.length);
  });

  it('includes removed records: moved out, dead (one with an uncertain date), removed ex officio', () => {
    const statuses = new Set(records.map((r) => r.status));
    expect(statuses).toEqual(new Set(['current', 'movedOut', 'dead', 'removedExOfficio']));
    const uncertain = records.filter(
      (r) => r.status === 'dead' && r.removal?.deathDate?.kind === 'approximate',
    );
    expect(uncertain.map((r) => r.removal?.deathDate)).toContainEqual(
      expect.objectContaining({ text: '令和6年5月上旬' }),
    );
    const pending = records.filter((r) => r.status === 'current' && r.plannedMoveOut);
    expect(pending.length).toBeGreaterThanOrEqual(1);
    for (const r of pending) expect(r.plannedMoveOut!.plannedDate > '2026-11-26').toBe(true);
  });

  it('includes foreign residents (about 3%), special permanent ones and a registered alias', () => {
    const foreign = records.filter((r) => r.kind === 'foreign');
    expect(foreign.length / records.length).toBeGreaterThan(0.02);
    expect(foreign.length / records.length).toBeLessThan(0.05);
    for (const r of foreign) {
      expect(r.honseki).toBeUndefined();
      expect(r.benefits.electoralRoll).toBeUndefined();
      expect(r.foreign?.latinName).toMatch(/^[A-Z ]+$/);
    }
    const categories = foreign.map((r) => r.foreign!.status.category);
    expect(categories.filter((c) => c === 'specialPermanent').length).toBeGreaterThanOrEqual(2);
    const cards = foreign.map((r) => {
      const s = r.foreign!.status;
      return s.category === 'midLongTerm'
        ? s.residenceCardNo
        : s.category === 'specialPermanent'
          ? s.certificateNo
          : '';
    });
    for (const c of cards) expect(c).toMatch(/^[A-Z]{2}\d{8}[A-Z]{2}$/);
    expect(new Set(cards).size).toBe(cards.length);
    expect(foreign.filter((r) => r.foreign?.alias)).toHaveLength(1);
  });

  it('has Japanese names with katakana readings, a few in old character forms, and era births', () => {
    const japanese = records.filter((r) => r.kind === 'japanese');
    for (const r of japanese) {
      expect(r.reading.family).toMatch(/^[\u30A1-\u30FC]+$/u);
      expect(r.reading.given).toMatch(/^[\u30A1-\u30FC]+$/u);
      expect(r.honseki?.kind).toBe('registered');
    }
    const families = new Set(japanese.map((r) => r.name!.family));
    for (const old of ['髙橋', '齋藤', '山﨑', '渡邊', '𠮷田']) expect(families).toContain(old);
    const statuses = new Set(japanese.map((r) => r.reading.status));
    expect(statuses).toEqual(new Set(['certified', 'notCertified']));
    const taisho = japanese.filter((r) => r.birthDate.kind === 'exact' && r.birthDate.date < '1926-12-25');
    expect(taisho.length).toBeGreaterThanOrEqual(1);
    expect(japanese.some((r) => r.formerSurname)).toBe(true);
    expect(japanese.some((r) => r.address.katagaki)).toBe(true);
    for (const r of records) expect(r.address.text.startsWith(DEMO_CITY_NAME)).toBe(true);
  });

  it('keeps every current household with exactly one head and relationships from the vocabulary', () => {
    const heads = new Map<string, number>();
    for (const r of rows) {
      expect(parseRelationship(r.relationship!)).toBe(r.relationship);
      if (r.status !== 'current') continue;
      const head = isHead(parseRelationship(r.relationship!)) ? 1 : 0;
      heads.set(r.household_no!, (heads.get(r.household_no!) ?? 0) + head);
    }
    expect([...heads.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    const used = new Set(rows.map((r) => r.relationship));
    for (const rel of ['世帯主', '妻', '子', '母', '子の妻', '子の子', '同居人', '縁故者'])
      expect(used).toContain(rel);
  });

  it('records history: several snapshots, the change kinds of the demo, and a cancelled correction', async () => {
    expect(Math.max(...rows.map((r) => r.history_seq))).toBeGreaterThanOrEqual(3);
    const reasons = await first.handle.db
      .selectFrom('change')
      .select(['reason', 'cancels_change_id', 'effective_date'])
      .where('lg_code', '=', actor.lgCode)
      .execute();
    const seen = new Set(reasons.map((r) => r.reason));
    for (const reason of [
      'domesticMoveIn',
      'moveInFromAbroad',
      'birth',
      'moveWithin',
      'householdSplit',
      'headChange',
      'death',
      'domesticMoveOut',
      'plannedMoveOut',
      'formerSurnameEntered',
      'aliasEntered',
      'myNumberChangeOnRequest',
      'minorCorrection',
      'correctionCancelled',
    ]) {
      expect(seen).toContain(reason);
    }
    expect(reasons.filter((r) => r.cancels_change_id !== null)).toHaveLength(1);
    // Nothing dated after today except the pending move-outs.
    const future = reasons.filter((r) => r.effective_date > '2026-11-26');
    expect(future.every((r) => r.reason === 'plannedMoveOut')).toBe(true);
  });
});
