import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { testKeyring } from '../keys/testing.js';
import {
  normalizeForSearch,
  parseHouseholdNo,
  parseMyNumber,
  parsePersonNo,
  parseRelationship,
  parseResidentCode,
} from '../shared/index.js';
import { generatePopulation, type PopulationOptions } from './population.js';
import { MunicipalityKeys } from '../keys/index.js';
import { snapshotMyNumberBinding } from './my-number.js';
import { COPY_TABLES } from './population.copy.js';
import { copyBatches, loadPopulation, ownBatches, type CopyBatch } from './population.loader.js';
import { parallelBulkLoad } from './population.parallel.js';
import { searchColumnsOf } from './change.service.js';
import { searchResidents } from './resident.repository.js';
import { ResidentRecord } from './resident.js';
import { FULL_VIEW, TEST_LG_CODE, actor, moveInOf, person, registryServices, testClock } from './testing.js';

function digest(options: PopulationOptions): string {
  const hash = createHash('sha256');
  for (const h of generatePopulation(options)) hash.update(JSON.stringify(h));
  return hash.digest('hex');
}

const small = { seed: 7, residents: 2000, lgCode: TEST_LG_CODE };

describe('generatePopulation', () => {
  it('is deterministic: same seed, same output; another seed, another output', () => {
    expect(digest(small)).toBe(digest(small));
    expect(digest({ ...small, seed: 8 })).not.toBe(digest(small));
  });

  it('makes exactly N persons with valid, unique numbers and valid records', () => {
    const persons = new Set<string>();
    const myNumbers = new Set<string>();
    const codes = new Set<string>();
    for (const h of generatePopulation(small)) {
      expect(parseHouseholdNo(h.householdNo)).toBe(h.householdNo);
      for (const s of h.snapshots) ResidentRecord.parse(s.record);
      for (const r of h.members) {
        expect(parsePersonNo(r.personNo)).toBe(r.personNo);
        expect(parseMyNumber(r.myNumber ?? '')).toBe(r.myNumber);
        expect(parseResidentCode(r.residentCode ?? '')).toBe(r.residentCode);
        persons.add(r.personNo);
        myNumbers.add(r.myNumber ?? '');
        codes.add(r.residentCode ?? '');
      }
    }
    expect(persons.size).toBe(small.residents);
    expect(myNumbers.size).toBe(small.residents);
    expect(codes.size).toBe(small.residents);
  });

  it('makes households with one head, relationships of the vocabulary, ordered histories', () => {
    let snapshots = 0;
    let removed = 0;
    for (const h of generatePopulation(small)) {
      const heads = h.members.filter((m) => m.relationship === '世帯主');
      expect(heads).toHaveLength(1);
      for (const m of h.members) {
        expect(parseRelationship(m.relationship)).toBe(m.relationship);
        expect(m.householdNo).toBe(h.householdNo);
        const seqs = h.snapshots.filter((s) => s.record.personNo === m.personNo).map((s) => s.historySeq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        if (m.status !== 'current') removed += 1;
      }
      const dates = h.changes.map((c) => c.effectiveDate);
      expect([...dates].sort()).toEqual(dates.slice().sort());
      snapshots += h.snapshots.length;
    }
    expect(snapshots / small.residents).toBeGreaterThan(2.5);
    expect(snapshots / small.residents).toBeLessThan(3.5);
    expect(removed).toBeGreaterThan(0);
  });

  it('has 2–3 % foreign residents at N = 5,000 and household sizes like the census', () => {
    let foreign = 0;
    let households = 0;
    let singles = 0;
    for (const h of generatePopulation({ ...small, residents: 5000, seed: 3 })) {
      households += 1;
      if (h.members.length === 1) singles += 1;
      foreign += h.members.filter((m) => m.kind === 'foreign').length;
    }
    expect(foreign / 5000).toBeGreaterThanOrEqual(0.02);
    expect(foreign / 5000).toBeLessThanOrEqual(0.03);
    expect(singles / households).toBeGreaterThan(0.33);
    expect(singles / households).toBeLessThan(0.43);
  });

  it('has ages like the population pyramid (about 29 % aged 65+, 12 % under 15 in 2020)', () => {
    let n = 0;
    let old = 0;
    let young = 0;
    for (const h of generatePopulation({ ...small, residents: 5000, seed: 3 })) {
      for (const m of h.members) {
        if (m.birthDate.kind !== 'exact') throw new Error('generated births are exact');
        const age = 2026 - Number(m.birthDate.date.slice(0, 4));
        n += 1;
        if (age >= 65) old += 1;
        if (age < 15) young += 1;
      }
    }
    expect(old / n).toBeGreaterThan(0.2);
    expect(old / n).toBeLessThan(0.35);
    expect(young / n).toBeGreaterThan(0.08);
    expect(young / n).toBeLessThan(0.18);
  });
});

describe('loadPopulation', () => {
  let handle: DatabaseHandle;
  const clock = testClock();

  beforeAll(async () => {
    handle = await openTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('loads N = 500; search finds a generated person by kana and by My Number; numbering goes on', async () => {
    const { audit, residents, changes } = registryServices(handle, clock);
    const before = await handle.db
      .selectFrom('access_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const summary = await loadPopulation({
      db: handle.db,
      connect: handle.connect,
      keyring: testKeyring(handle.db),
      audit,
      actor,
      seed: 11,
      residents: 500,
      municipalityName: '架空市',
      batchHouseholds: 50,
    });
    expect(summary.residents).toBe(500);
    // PostgreSQL: COPY, in bulk mode on this empty register; the embedded database: INSERTs.
    expect(summary.method).toBe(handle.kind === 'postgres' ? 'bulkCopy' : 'insert');
    const after = await handle.db
      .selectFrom('access_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(Number(after?.n) - Number(before?.n)).toBe(1);

    // The first generated Japanese resident, as generated.
    const first = [...generatePopulation({ seed: 11, residents: 500, lgCode: TEST_LG_CODE })]
      .flatMap((h) => h.members)
      .find((m) => m.kind === 'japanese' && m.status === 'current');
    if (!first) throw new Error('no current Japanese resident generated');
    const kana = `${first.reading.family}${first.reading.given}`;
    const prefix = `${first.reading.family}${first.reading.given.slice(0, 1)}`;
    const byKana = await residents.search(actor, { name: prefix, pageSize: 100 });
    expect(byKana.hits.map((h) => h.personNo)).toContain(first.personNo);
    const found = await residents.search(actor, { name: kana, pageSize: 100 });
    expect(found.hits.map((h) => h.personNo)).toContain(first.personNo);
    const byNumber = await residents.search(actor, { myNumber: first.myNumber });
    expect(byNumber.hits.map((h) => h.personNo)).toEqual([first.personNo]);

    const inquiry = await residents.inquire(actor, first.personNo, FULL_VIEW);
    expect(JSON.stringify(inquiry)).toContain(first.myNumber);
    expect(JSON.stringify(inquiry)).toContain(first.address.text);

    // A name alone that matches more snapshots than allowed is refused as too broad, unless narrowed.
    const family = normalizeForSearch(first.reading.family);
    const broad = { nameNorm: family, status: 'all' as const, limit: 20, offset: 0, maxTextMatches: 1 };
    expect(await searchResidents(handle.db, TEST_LG_CODE, broad)).toEqual({
      total: 0,
      rows: [],
      tooMany: true,
    });
    const within = await searchResidents(handle.db, TEST_LG_CODE, { ...broad, maxTextMatches: 100_000 });
    expect(within.tooMany).toBeUndefined();
    expect(within.rows.map((r) => r.person_no)).toContain(first.personNo);
    const birth = first.birthDate.kind === 'exact' ? first.birthDate.date : '';
    const narrowed = await searchResidents(handle.db, TEST_LG_CODE, {
      ...broad,
      birthFrom: birth,
      birthTo: birth,
    });
    expect(narrowed.rows.map((r) => r.person_no)).toContain(first.personNo);

    // Each search value is stored once per run of equal values (migration 0017): the latest stored value
    // of every column is the person's own now, and later snapshots that repeat it store null.
    const stored = await sql<{
      person_no: string;
      values: Array<string | null>;
      repeated: number;
      numbered: number;
    }>`
      SELECT person_no,
             ARRAY[${sql.join(
               [
                 'name_norm',
                 'kana_norm',
                 'other_names_norm',
                 'address_norm',
                 'birth_sort::text',
                 'residence_card_no',
               ].map(
                 (c) => sql`(array_agg(${sql.raw(c)} ORDER BY history_seq DESC)
                               FILTER (WHERE ${sql.raw(c)} IS NOT NULL))[1]`,
               ),
             )}] AS values,
             count(*) FILTER (WHERE history_seq > 1 AND kana_norm IS NULL)::int AS repeated,
             count(*) FILTER (WHERE numbers_new)::int AS numbered
        FROM resident_history WHERE lg_code = ${TEST_LG_CODE} GROUP BY person_no`.execute(handle.db);
    const byPerson = new Map(stored.rows.map((r) => [r.person_no, r]));
    const members = [...generatePopulation({ seed: 11, residents: 500, lgCode: TEST_LG_CODE })].flatMap(
      (h) => h.members,
    );
    for (const m of members) {
      const c = searchColumnsOf(m);
      const now = [c.nameNorm, c.kanaNorm, c.otherNamesNorm, c.addressNorm, c.birthSort, c.residenceCardNo];
      const values = byPerson.get(m.personNo)?.values;
      now.forEach((v, i) => {
        if (v !== null) expect(values?.[i], `${m.personNo} column ${i}`).toBe(v);
      });
    }
    expect(stored.rows.reduce((n, r) => n + r.repeated, 0)).toBeGreaterThan(100);
    // The generator changes no number: each person's first snapshot alone is in the number indexes.
    expect(stored.rows.every((r) => r.numbered === 1)).toBe(true);

    // A move-in afterwards gets a fresh 宛名番号, after the generated ones.
    const result = await changes.moveIn(actor, moveInOf([person()]));
    const newNo = result.persons[0]?.personNo ?? '';
    expect(Number(newNo.slice(0, -1))).toBeGreaterThan(500);
  });
});

describe('batches built by several workers', () => {
  let handle: DatabaseHandle;
  let keys: MunicipalityKeys;
  const build = (k: MunicipalityKeys) => ({
    population: { seed: 3, residents: 1500, lgCode: TEST_LG_CODE },
    keys: k,
    actor,
    firstChangeId: 1000,
    batchHouseholds: 40,
  });

  beforeAll(async () => {
    handle = await openTestDatabase();
    keys = await testKeyring(handle.db).forMunicipality(TEST_LG_CODE);
  });
  afterAll(async () => {
    await handle.close();
  });

  it('are together the batches one thread builds, but for the 個人番号 ciphertexts (fresh IVs)', () => {
    const history = COPY_TABLES.resident_history;
    const [personNo, seq, enc] = (['person_no', 'history_seq', 'my_number_enc'] as const).map((c) =>
      history.indexOf(c),
    ) as [number, number, number];
    // Each table's lines, with the ciphertext replaced by what it decrypts to under its row's binding.
    const readable = ({ copy, ...counts }: CopyBatch) => ({
      counts,
      tables: Object.fromEntries(
        Object.entries(copy).map(([table, bytes]) => {
          const lines = new TextDecoder().decode(bytes).split('\n');
          if (table !== 'resident_history') return [table, lines];
          return [
            table,
            lines.map((line) => {
              const v = line.split('\t');
              if (v[enc] && v[enc] !== '\\N') {
                const stored = Buffer.from(v[enc].replace(/^\\\\x/, ''), 'hex');
                v[enc] = keys.decrypt(snapshotMyNumberBinding(v[personNo]!, Number(v[seq])), stored);
              }
              return v.join('\t');
            }),
          ];
        }),
      ),
    });
    const one = [...copyBatches(build(keys))];
    expect(one.length).toBeGreaterThan(10);
    const three = [0, 1, 2]
      .flatMap((worker) => [...ownBatches(build(keys), worker, 3)])
      .sort((a, b) => a.index - b.index);
    expect(three.map((b) => b.index)).toEqual(one.map((_, i) => i));
    expect(three.map((b) => readable(b.batch))).toEqual(one.map(readable));
    // The numbers really were decrypted: each person's 個人番号, 12 digits.
    const line = readable(three[0]!.batch).tables['resident_history']![0]!;
    expect(line.split('\t')[enc]).toMatch(/^[0-9]{12}$/);
  });

  it.runIf(process.env['DATABASE_URL'])(
    'fails with the error a worker met, its threads stopped',
    async () => {
      const broken = new MunicipalityKeys(TEST_LG_CODE, new Map([[1, Buffer.alloc(5)]]), Buffer.alloc(32));
      const load = async () => {
        const batches = parallelBulkLoad({ ...build(broken), workers: 2, connection: handle.connection! });
        for await (const _ of batches);
      };
      await expect(load()).rejects.toThrow(/key length/i);
      // Nothing left behind (the failure came before any row: the interrupted load below covers rows
      // written and then aborted).
      const rows = await sql<{ n: number }>`
        SELECT (SELECT count(*) FROM change)::int + (SELECT count(*) FROM household)::int AS n`.execute(
        handle.db,
      );
      expect(rows.rows[0]?.n).toBe(0);
    },
  );
});

describe.runIf(process.env['DATABASE_URL'])('loadPopulation by COPY (PostgreSQL)', () => {
  let handle: DatabaseHandle;
  const clock = testClock();
  const shape = async () =>
    sql<{ def: string }>`
      SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
       WHERE indrelid IN ('household'::regclass, 'change'::regclass, 'resident_history'::regclass, 'resident'::regclass)
      UNION ALL
      SELECT conrelid::regclass::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
       WHERE contype = 'f'
         AND conrelid IN ('household'::regclass, 'change'::regclass, 'resident_history'::regclass, 'resident'::regclass)
      ORDER BY 1`
      .execute(handle.db)
      .then((r) => r.rows.map((row) => row.def));

  beforeAll(async () => {
    handle = await openTestDatabase();
  });
  afterAll(async () => {
    await handle.close();
  });

  it('bulk-loads an empty register with every index and key restored, then appends in batches', async () => {
    const { audit, residents } = registryServices(handle, clock);
    const keyring = testKeyring(handle.db);
    const before = await shape();
    expect(before.some((d) => d.includes('gin_trgm_ops'))).toBe(true);
    // Rows built by two worker threads (population.parallel.ts), as a large load builds them.
    const first = await loadPopulation({
      db: handle.db,
      connect: handle.connect,
      keyring,
      audit,
      actor,
      municipalityName: '架空市',
      seed: 5,
      residents: 300,
      batchHouseholds: 25,
      connection: handle.connection,
      workers: 2,
    });
    expect(first.method).toBe('bulkCopy');
    expect(await shape()).toEqual(before);

    // Not empty any more: COPY per batch under the indexes and keys.
    const second = await loadPopulation({
      db: handle.db,
      connect: handle.connect,
      keyring,
      audit,
      actor,
      municipalityName: '架空市',
      seed: 6,
      residents: 200,
      batchHouseholds: 20,
    });
    expect(second.method).toBe('copy');
    expect(second.firstPersonSerial).toBeGreaterThan(300);
    expect(await shape()).toEqual(before);

    // Every row arrived intact: counts, a record read back with its 個人番号, a search by the blind index.
    const counts = await sql<{ persons: number; snapshots: number }>`
      SELECT (SELECT count(*) FROM resident)::int AS persons, (SELECT count(*) FROM resident_history)::int AS snapshots`.execute(
      handle.db,
    );
    expect(counts.rows[0]).toEqual({ persons: 500, snapshots: first.snapshots + second.snapshots });
    const generated = [
      ...generatePopulation({
        seed: 6,
        residents: 200,
        lgCode: TEST_LG_CODE,
        personSerialAfter: second.firstPersonSerial - 1,
        householdSerialAfter: second.firstHouseholdSerial - 1,
      }),
    ]
      .flatMap((h) => h.members)
      .find((m) => m.status === 'current');
    if (!generated) throw new Error('no current resident generated');
    const inquiry = await residents.inquire(actor, generated.personNo, FULL_VIEW);
    expect(JSON.stringify(inquiry)).toContain(generated.myNumber);
    const byNumber = await residents.search(actor, { myNumber: generated.myNumber });
    expect(byNumber.hits.map((h) => h.personNo)).toEqual([generated.personNo]);
    // And one of the bulk load's, built by a worker.
    const bulkLoaded = [...generatePopulation({ seed: 5, residents: 300, lgCode: TEST_LG_CODE })]
      .flatMap((h) => h.members)
      .filter((m) => m.status === 'current')
      .at(-1);
    if (!bulkLoaded) throw new Error('no current resident generated');
    const found = await residents.search(actor, { myNumber: bulkLoaded.myNumber });
    expect(found.hits.map((h) => h.personNo)).toEqual([bulkLoaded.personNo]);
    expect(JSON.stringify(await residents.inquire(actor, bulkLoaded.personNo, FULL_VIEW))).toContain(
      bulkLoaded.myNumber,
    );
  });

  it('restores indexes and keys when a bulk load fails half-way', async () => {
    const other = await openTestDatabase();
    try {
      const { audit } = registryServices(other.db, clock);
      const keyring = testKeyring(other.db);
      const before = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = current_schema()`.execute(other.db);
      let batches = 0;
      await expect(
        loadPopulation({
          db: other.db,
          connect: other.connect,
          keyring,
          audit,
          actor,
          municipalityName: '架空市',
          seed: 5,
          residents: 300,
          batchHouseholds: 10,
          connection: other.connection,
          workers: 2,
          onProgress: () => {
            batches += 1;
            if (batches === 3) throw new Error('interrupted');
          },
        }),
      ).rejects.toThrow('interrupted');
      const after = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = current_schema()`.execute(other.db);
      expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM resident_history`.execute(
        other.db,
      );
      expect(rows.rows[0]?.n).toBe(0);
    } finally {
      await other.close();
    }
  });
});
