import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError } from '../shared/index.js';
import type { ChangeService, ChangeResult } from './change.service.js';
import { ensureMunicipality } from './resident.repository.js';
import type { ResidentService, SearchCriteria } from './resident.service.js';
import {
  FULL_VIEW,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  moveWithinOf,
  person,
  registryServices,
  testClock,
} from './testing.js';

let handle: DatabaseHandle;
let changes: ChangeService;
let residents: ResidentService;
let takahashi: ChangeResult;
let sato: ChangeResult;
let smith: ChangeResult;
let removed: ChangeResult;
const takahashiPerson = person({
  name: { family: '髙橋', given: '健太' },
  reading: { family: 'タカハシ', given: 'ケンタ', status: 'certified' },
  birthDate: '昭和50年4月1日',
});
const satoPerson = person({
  name: { family: '佐藤', given: '花子' },
  reading: { family: 'サトウ', given: 'ハナコ', status: 'certified' },
  sex: 'female',
  birthDate: '1990-02-03',
});
const smithPerson = foreignPerson();

beforeAll(async () => {
  handle = await openTestDatabase();
  ({ changes, residents } = registryServices(handle, testClock()));
  // Named as in the test addresses (架空市…), so that an address may be typed without the city.
  await ensureMunicipality(handle.db, TEST_LG_CODE, '架空市');
  takahashi = await changes.moveIn(actor, moveInOf([takahashiPerson]));
  sato = await changes.moveIn(actor, moveInOf([satoPerson]));
  // Her name and address change: the old ones must still be found.
  await changes.correct(actor, {
    effectiveDate: '2026-11-26',
    personNo: sato.persons[0]!.personNo,
    kind: 'exOfficioCorrection',
    patch: {
      name: { family: '鈴木', given: '花子' },
      reading: { family: 'スズキ', given: 'ハナコ', status: 'certified' },
    },
  });
  await changes.moveWithin(actor, moveWithinOf([sato.persons[0]!.personNo], { effectiveDate: '2026-11-26' }));
  await changes.formerSurname(actor, {
    action: 'enter',
    effectiveDate: '2026-11-26',
    personNo: sato.persons[0]!.personNo,
    surname: '佐藤',
    reading: 'サトウ',
  });
  smith = await changes.moveIn(
    actor,
    moveInOf([smithPerson], { origin: 'abroad', previousAddress: { text: 'アメリカ合衆国', abroad: true } }),
  );
  await changes.alias(actor, {
    action: 'enter',
    effectiveDate: '2026-11-26',
    personNo: smith.persons[0]!.personNo,
    name: '須美寿',
    reading: 'スミス',
  });
  removed = await changes.moveIn(
    actor,
    moveInOf([
      person({
        name: { family: '高田', given: '次郎' },
        reading: { family: 'タカダ', given: 'ジロウ', status: 'notCertified' },
        birthDate: '1975-04-01',
      }),
    ]),
  );
  await changes.death(actor, {
    effectiveDate: '2026-11-20',
    notifiedOn: '2026-11-21',
    personNo: removed.persons[0]!.personNo,
    deathDate: '2026-11-20',
  });
});
afterAll(async () => {
  await handle.close();
});

async function found(criteria: SearchCriteria): Promise<string[]> {
  const r = await residents.search(actor, criteria);
  return r.hits.map((h) => h.personNo);
}

const no = (r: ChangeResult) => r.persons[0]!.personNo;

describe('search', () => {
  it('finds names in any script and width, from their start', async () => {
    for (const name of [
      '髙橋',
      '高橋',
      '高橋健',
      'たかはし',
      'タカハシ',
      'ﾀｶﾊｼ',
      'たかはし　けんた',
      'たかはしけ',
    ]) {
      expect(await found({ name }), name).toContain(no(takahashi));
    }
    // 前方一致 is the default: the middle of a name is not its start.
    for (const name of ['カハシ', '橋健太', 'けんた']) {
      expect(await found({ name }), name).not.toContain(no(takahashi));
    }
    expect(await found({ name: 'たか' })).toContain(no(takahashi));
    expect(await found({ name: 'smith' })).toEqual([no(smith)]);
    expect(await found({ name: 'ＳＭＩＴＨ　ＪＯＨＮ' })).toEqual([no(smith)]);
    expect(await found({ name: 'john' })).toEqual([]);
  });

  it('finds names anywhere with 部分一致', async () => {
    for (const name of ['カハシ', '橋健太', 'けんた', 'たかはし']) {
      expect(await found({ name, match: 'contains' }), name).toContain(no(takahashi));
    }
    expect(await found({ name: 'john', match: 'contains' })).toEqual([no(smith)]);
    // One or two characters still match the start of a name only.
    expect(await found({ name: '橋健', match: 'contains' })).not.toContain(no(takahashi));
    expect(await found({ name: 'たか', match: 'contains' })).toContain(no(takahashi));
  });

  it('finds past names, aliases and former surnames', async () => {
    expect(await found({ name: '鈴木' })).toEqual([no(sato)]);
    expect(await found({ name: '佐藤花子' })).toEqual([no(sato)]);
    expect(await found({ name: 'さとう' })).toEqual([no(sato)]);
    expect(await found({ name: '須美寿' })).toEqual([no(smith)]);
  });

  it('stores a search value only in the snapshot where it changed (no index entry for a repeat)', async () => {
    // Her snapshots: move-in; name corrected; moved within; former surname entered.
    const rows = await handle.db
      .selectFrom('resident_history')
      .select([
        'history_seq',
        'name_norm',
        'kana_norm',
        'other_names_norm',
        'address_norm',
        'birth_sort',
        'numbers_new',
      ])
      .where('person_no', '=', no(sato))
      .orderBy('history_seq')
      .execute();
    const set = rows.map((r) =>
      (['name_norm', 'kana_norm', 'other_names_norm', 'address_norm', 'birth_sort'] as const).filter(
        (c) => r[c] !== null,
      ),
    );
    expect(set).toEqual([
      ['name_norm', 'kana_norm', 'other_names_norm', 'address_norm', 'birth_sort'],
      ['name_norm', 'kana_norm'],
      ['address_norm'],
      ['other_names_norm'],
    ]);
    // Each is still found by what it no longer repeats.
    expect(await found({ name: 'スズキハナコ' })).toEqual([no(sato)]);
    expect(await found({ birthDate: '1990-02-03' })).toEqual([no(sato)]);
    expect(await found({ address: '北区緑町', name: '鈴木花子', birthDate: '1990-02-03' })).toEqual([
      no(sato),
    ]);
    // Her numbers never changed: only her first snapshot is in the number indexes (0018).
    expect(rows.map((r) => r.numbers_new)).toEqual([true, false, false, false]);
    expect(await found({ myNumber: satoPerson.myNumber! })).toEqual([no(sato)]);
    expect(await found({ residentCode: satoPerson.residentCode! })).toEqual([no(sato)]);
  });

  it('finds a date of birth in either calendar', async () => {
    for (const birthDate of ['1975-04-01', 'S50.4.1', '昭和50年4月1日', '昭和５０年４月１日']) {
      expect((await found({ birthDate })).sort(), birthDate).toEqual([no(takahashi), no(removed)].sort());
    }
    expect(await found({ birthDate: '昭和50年頃', name: '高橋' })).toEqual([no(takahashi)]);
    expect(await found({ birthDate: '1990-02-04' })).toEqual([]);
  });

  it('finds current and past addresses, 方書 and address codes', async () => {
    // From the start, with or without the municipality's name; her past address too.
    expect(await found({ address: '架空市北区緑町三丁目' })).toEqual([no(sato)]);
    expect(await found({ address: '北区緑町' })).toEqual([no(sato)]);
    expect(await found({ address: '中央区本町一丁目', name: '鈴木' })).toEqual([no(sato)]);
    expect(await found({ address: '緑町三丁目' })).toEqual([]);
    // 部分一致: any part, 方書 included.
    expect(await found({ address: '緑町三丁目', match: 'contains' })).toEqual([no(sato)]);
    expect(await found({ address: 'みどりハイツ', match: 'contains' })).toEqual([no(sato)]);
    expect(await found({ address: 'みどりハイツ' })).toEqual([]);
    expect(await found({ addressCode: '102003' })).toEqual([no(sato)]);
  });

  it('finds every number', async () => {
    expect(await found({ personNo: no(takahashi) })).toEqual([no(takahashi)]);
    expect(await found({ householdNo: takahashi.householdNos[0]! })).toEqual([no(takahashi)]);
    expect(await found({ myNumber: takahashiPerson.myNumber! })).toEqual([no(takahashi)]);
    expect(await found({ residentCode: takahashiPerson.residentCode! })).toEqual([no(takahashi)]);
    const card = smithPerson.foreign!.status;
    expect(card.category).toBe('midLongTerm');
    if (card.category === 'midLongTerm') {
      expect(await found({ residenceCardNo: card.residenceCardNo.toLowerCase() })).toEqual([no(smith)]);
    }
  });

  it('refuses a malformed number in the criteria with its code', async () => {
    await expect(residents.search(actor, { myNumber: '621498320258' })).rejects.toMatchObject({
      code: 'INVALID_MY_NUMBER',
    });
  });

  it('includes removed records, marked, and filters by status and sex', async () => {
    const all = await residents.search(actor, { name: 'たか' });
    const dead = all.hits.find((h) => h.personNo === no(removed));
    expect(dead).toMatchObject({ removed: true, status: 'dead', statusLabel: '死亡' });
    expect(all.hits.find((h) => h.personNo === no(takahashi))?.removed).toBe(false);
    expect(await found({ name: 'たか', status: 'current' })).toEqual([no(takahashi)]);
    expect(await found({ name: 'たか', status: 'removed' })).toEqual([no(removed)]);
    expect(await found({ sex: 'female' })).toEqual([no(sato)]);
  });

  it('orders by reading and paginates', async () => {
    const page1 = await residents.search(actor, { pageSize: 2 });
    const page2 = await residents.search(actor, { pageSize: 2, page: 2 });
    expect(page1.total).toBe(4);
    expect(page1.hits.map((h) => h.reading)).toEqual(['スズキ　ハナコ', 'スミス　ジョン']);
    expect(page2.hits.map((h) => h.reading)).toEqual(['タカダ　ジロウ', 'タカハシ　ケンタ']);
    expect(page2.total).toBe(4);
    // A page past the end has no hits and still the count.
    const page9 = await residents.search(actor, { pageSize: 2, page: 9 });
    expect(page9.hits).toEqual([]);
    expect(page9.total).toBe(4);
    expect((await residents.search(actor, { name: 'ありえないなまえ' })).total).toBe(0);
  });

  it('lists the persons found by their reading now and by a past one together, in kana order', async () => {
    // His reading was スギタ: a search from す finds him by that past reading, and lists him by his current
    // one after スズキ and スミス, whose current readings start with す (an index range of migration 0022).
    const renamed = await changes.moveIn(
      actor,
      moveInOf([
        person({
          name: { family: '杉田', given: '一郎' },
          reading: { family: 'スギタ', given: 'イチロウ', status: 'certified' },
        }),
      ]),
    );
    await changes.correct(actor, {
      effectiveDate: '2026-11-26',
      personNo: no(renamed),
      kind: 'exOfficioCorrection',
      patch: {
        name: { family: '矢田', given: '一郎' },
        reading: { family: 'ヤダ', given: 'イチロウ', status: 'certified' },
      },
    });
    expect(await found({ name: 'すぎ' })).toEqual([no(renamed)]);
    const page1 = await residents.search(actor, { name: 'す', pageSize: 2 });
    expect(page1.hits.map((h) => h.personNo)).toEqual([no(sato), no(smith)]);
    expect(page1.total).toBe(3);
    const page2 = await residents.search(actor, { name: 'す', pageSize: 2, page: 2 });
    expect(page2.hits.map((h) => [h.personNo, h.reading])).toEqual([[no(renamed), 'ヤダ　イチロウ']]);
    expect(page2.total).toBe(3);
    expect((await residents.search(actor, { name: 'す', pageSize: 2, page: 3 })).total).toBe(3);
    // The criteria apply to both: by current reading (スミス) and by a past one (矢田).
    expect(await found({ name: 'す', sex: 'male' })).toEqual([no(smith), no(renamed)]);
    expect(await found({ name: 'す', sex: 'female' })).toEqual([no(sato)]);
    // An address narrows the name's matches: the range is then not used (スミス lives elsewhere).
    expect(await found({ name: 'す', address: '北区緑町' })).toEqual([no(sato)]);
    // A whole reading typed: the one person whose current reading it is.
    expect(await found({ name: 'すずきはなこ' })).toEqual([no(sato)]);
  });
});

describe('inquiry', () => {
  it('returns the current record and the whole history with its changes', async () => {
    const p = await residents.inquire(actor, no(sato), FULL_VIEW);
    expect(p.current.name?.family).toBe('鈴木');
    expect(p.history.map((h) => [h.historySeq, h.reasonLabel])).toEqual([
      [1, '転入'],
      [2, '職権修正'],
      [3, '転居'],
      [4, '旧氏の記載'],
    ]);
    expect(p.history[0]!.record.name?.family).toBe('佐藤');
  });

  it('refuses an unknown person with a not-found error', async () => {
    await expect(residents.inquire(actor, '0000009997', FULL_VIEW)).rejects.toBeInstanceOf(DomainError);
    await expect(residents.inquire(actor, '0000009997', FULL_VIEW)).rejects.toMatchObject({
      code: 'PERSON_NOT_FOUND',
    });
  });

  it("does not show another municipality's residents", async () => {
    await ensureMunicipality(handle.db, '131016', '千代田区');
    const other = { ...actor, lgCode: '131016' };
    await expect(residents.inquire(other, no(sato), FULL_VIEW)).rejects.toMatchObject({
      code: 'PERSON_NOT_FOUND',
    });
    expect((await residents.search(other, { name: '鈴木' })).total).toBe(0);
  });

  it.skipIf(!process.env['DATABASE_URL'])(
    'runs on the pool of prepared statements, and a search does not (PostgreSQL)',
    async () => {
      // The pools hand out their most recently released connection: the one the call before used.
      const preparedOn = async (pool: NonNullable<DatabaseHandle['preparedDb']>) =>
        (
          await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(pool)
        ).rows.map((r) => r.statement);
      await residents.inquire(actor, no(sato), FULL_VIEW);
      const afterInquiry = await preparedOn(handle.preparedDb!);
      expect(afterInquiry.some((s) => s.includes('from "resident_history_all" as "h"'))).toBe(true);
      await residents.search(actor, { name: 'すずき' });
      expect(await preparedOn(handle.db)).toEqual([]);
      // Nor did the search run on the prepared pool: its listing is not among that pool's statements.
      expect((await preparedOn(handle.preparedDb!)).some((s) => s.includes('count(*) OVER ()'))).toBe(false);
    },
  );
});
