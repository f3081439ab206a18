/**
 * "A database dump alone reveals no My Number": the demo city, a move-in with a 個人番号, a 個人番号 change,
 * a search by 個人番号, a support measure with its details and the demo staff (TOTP secrets), then the raw dump — `pg_dump` of the test
 * schema on PostgreSQL; on the embedded database a logical dump of every table and the data directory's
 * files as they lie on disk — must not contain any 個人番号 (nor the support-measure details) as text.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openEmbedded, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { protectionServices, staff } from '../protection/testing.js';
import { seedDemoData } from '../registry/demo-data.js';
import { ensureMunicipality } from '../registry/index.js';
import { actor, moveInOf, person, registryServices, testClock } from '../registry/testing.js';
import { myNumberFromBody } from '../shared/index.js';
import { DEMO_ACCOUNTS, seedDemoStaff } from '../staff/index.js';
import { loadConfig } from '../config.js';
import { testKeyring } from './testing.js';

const LG = actor.lgCode;
const url = process.env['DATABASE_URL'];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-at-rest-'));
const SECRET_DETAILS = [
  '加害者　秘密太郎',
  '夜間に来庁の可能性あり（秘匿）',
  '配偶者からの暴力（秘匿の理由）',
];

let handle: DatabaseHandle;
let schema: string;
let myNumbers: string[];
let mover: { personNo: string; myNumber: string; residentCode: string; formerMyNumber: string };

beforeAll(async () => {
  // On the embedded database, a data directory on disk (the test reads its files after closing it).
  if (url) {
    handle = await openTestDatabase();
  } else {
    handle = await openEmbedded(dataDir);
    await migrateToLatest(handle.db);
  }
  schema = (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(handle.db)).rows[0]!.s;
  await ensureMunicipality(handle.db, LG, '架空市');
  const clock = testClock();
  const { changes, residents } = registryServices(handle, clock);
  await seedDemoData(changes, actor, { today: clock.today() });
  await seedDemoStaff(handle.db, LG, clock, loadConfig({ NODE_ENV: 'test' }), testKeyring(handle.db));

  const p = person({ name: { family: '暗号', given: '守' } });
  const moved = await changes.moveIn(actor, moveInOf([p], { effectiveDate: '2026-11-20' }));
  const personNo = moved.persons[0]!.personNo;
  const newNumber = myNumberFromBody('77665544332');
  await changes.changeMyNumber(actor, {
    personNo,
    myNumber: newNumber,
    basis: 'request',
    effectiveDate: '2026-11-25',
    notifiedOn: '2026-11-25',
  });
  mover = { personNo, myNumber: newNumber, residentCode: p.residentCode!, formerMyNumber: p.myNumber! };

  const { measures } = protectionServices(handle.db, clock);
  await measures.apply(staff(['supportMeasure']), {
    applicant: { personNo, relation: '本人' },
    protectedPersons: [],
    perpetrator: { name: SECRET_DETAILS[0]!, birthDate: '昭和55年5月5日', notes: SECRET_DETAILS[1]! },
    blockedServices: ['residentCopy'],
    reason: SECRET_DETAILS[2]!,
  });

  // Searching by 個人番号 works (through the blind index), for the current and the former number, and
  // leaves only keyed hashes in the access log.
  for (const n of [newNumber, p.myNumber!]) {
    const found = await residents.search(actor, { myNumber: n, status: 'all' });
    expect(found.hits.map((h) => h.personNo)).toEqual([personNo]);
  }
  expect((await residents.search(actor, { myNumber: myNumberFromBody('12121212121') })).total).toBe(0);

  // Every 個人番号 the database holds (decrypted through the keyring): the demo city's and the mover's.
  const keys = await testKeyring(handle.db).forMunicipality(LG);
  const rows = await handle.db
    .selectFrom('resident_history')
    .select(['person_no', 'history_seq', 'my_number_enc'])
    .where('my_number_enc', 'is not', null)
    .execute();
  myNumbers = [
    ...new Set(
      rows.map((r) =>
        keys.decrypt(
          { table: 'resident_history', column: 'my_number_enc', row: `${r.person_no}:${r.history_seq}` },
          r.my_number_enc!,
        ),
      ),
    ),
  ];
}, 240_000);

afterAll(async () => {
  await handle.close().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function expectNoSecrets(dump: string | Buffer, where: string): void {
  const leaked = myNumbers.filter((n) => dump.includes(n));
  expect(leaked, `個人番号 in clear in ${where}`).toEqual([]);
  for (const d of SECRET_DETAILS) expect(dump.includes(d), `support-measure details in ${where}`).toBe(false);
  for (const a of DEMO_ACCOUNTS) expect(dump.includes(a.totpSecret), `TOTP secret in ${where}`).toBe(false);
}

describe('a raw dump of the database', () => {
  it('holds the 個人番号 of every person with one, encrypted: the test knows them all', () => {
    expect(myNumbers.length).toBeGreaterThan(300);
    expect(myNumbers).toContain(mover.myNumber);
    expect(myNumbers).toContain(mover.formerMyNumber);
  });

  it('contains no 個人番号, no support-measure details and no TOTP secret in clear', async () => {
    if (url) {
      const dump = execFileSync('pg_dump', ['--dbname', url, '--schema', schema, '--no-owner'], {
        encoding: 'utf8',
        maxBuffer: 512 * 1024 * 1024,
      });
      // It is a real dump of the data: clear columns are there (the 住民票コード, names in the records).
      expect(dump).toContain(mover.residentCode);
      expect(dump).toContain('暗号');
      expectNoSecrets(dump, 'pg_dump');
      return;
    }
    // Embedded: every row of every table as text (what a logical dump holds) …
    const tables = await sql<{ name: string }>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`.execute(handle.db);
    expect(tables.rows.map((t) => t.name)).toEqual(
      expect.arrayContaining(['resident', 'resident_history', 'change', 'outbox', 'access_log', 'data_key']),
    );
    let logical = '';
    for (const t of tables.rows) {
      const rows = await sql<{ t: string }>`SELECT x::text AS t FROM ${sql.table(t.name)} x`.execute(
        handle.db,
      );
      logical += rows.rows.map((r) => r.t).join('\n');
    }
    expect(logical).toContain(mover.residentCode);
    expectNoSecrets(logical, 'the tables');

    // … and the data directory's files as they lie on disk (what a copy of `data/` holds).
    await handle.close();
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(dataDir);
    const raw = Buffer.concat(files.map((f) => fs.readFileSync(f)));
    expect(raw.includes(mover.residentCode), 'the files hold the clear columns').toBe(true);
    expectNoSecrets(raw, 'the data directory');
  });
});
