/**
 * The register through its HTTP API: the life of one family, step by step, with the current records and
 * histories checked after each step; plus the API's error shape and its OpenAPI document.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import type { DatabaseHandle } from './db/index.js';
import { openTestDatabase } from './db/testing.js';
import { ensureMunicipality } from './registry/index.js';
import { ADDRESS, ADDRESS_2, TEST_LG_CODE, moveInOf, person } from './registry/testing.js';
import { FixedClock } from './shared/index.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
const clock = new FixedClock('2026-04-01T01:00:00Z');

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE });
  app = await buildApp({ config, db: handle.db, clock });
});
afterAll(async () => {
  await app.close();
  await handle.close();
});

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies in tests
}

async function post(path: string, body: unknown, expected = 201): Promise<Json> {
  const res = await app.inject({
    method: 'POST',
    url: `/api${path}`,
    payload: body as object,
    headers: { 'x-terminal-id': 'COUNTER-3' },
  });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json<Json>();
}

async function get(path: string, expected = 200): Promise<Json> {
  const res = await app.inject({ method: 'GET', url: `/api${path}` });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json<Json>();
}

const reasons = (inquiry: Json) => (inquiry['history'] as Json[]).map((h) => h['reason'] as string);

describe('a family through the HTTP API', () => {
  it('lives its life: move-in, birth, move within, split, move-out, death, cancelled death', async () => {
    // 1. A family of three moves in.
    clock.setDay('2026-04-01');
    const moveIn = await post(
      '/changes/move-in',
      moveInOf(
        [
          person({ relationship: '世帯主', name: { family: '田中', given: '一郎' }, birthDate: 'S55.1.15' }),
          person({
            relationship: '妻',
            sex: 'female',
            name: { family: '田中', given: '和子' },
            birthDate: '昭和57年3月3日',
          }),
          person({ relationship: '子', name: { family: '田中', given: '翔太' }, birthDate: '2008-07-07' }),
        ],
        { effectiveDate: 'R8.3.28', notifiedOn: '令和8年4月1日' },
      ),
    );
    const [head, wife, son] = (moveIn['persons'] as Json[]).map((p) => p['personNo'] as string);
    const household = moveIn['householdNos'][0] as string;
    let h = await get(`/households/${household}`);
    expect(h['members'].map((m: Json) => m['relationship'])).toEqual(['世帯主', '妻', '子']);
    let p = await get(`/residents/${head}`);
    expect(p['current']).toMatchObject({
      status: 'current',
      residentSince: '2026-03-28',
      notifiedOn: '2026-04-01',
    });
    expect(p['current']['birthDate']).toEqual({ kind: 'exact', date: '1980-01-15' });
    expect(p['history'][0]).toMatchObject({
      terminalId: 'COUNTER-3',
      staffId: 'dev-staff',
      processedOn: '2026-04-01',
    });

    // 2. A child is born.
    clock.setDay('2026-05-10');
    const birth = await post('/changes/birth', {
      effectiveDate: '2026-05-02',
      notifiedOn: '2026-05-10',
      householdNo: household,
      child: person({
        relationship: '子',
        sex: 'female',
        name: { family: '田中', given: '陽菜' },
        birthDate: '令和8年5月2日',
      }),
    });
    const daughter = birth['persons'][0]['personNo'] as string;
    h = await get(`/households/${household}`);
    expect(h['members'].map((m: Json) => m['personNo'])).toEqual([head, wife, son, daughter]);

    // 3. The household moves within the city.
    clock.setDay('2026-06-15');
    await post('/changes/move-within', {
      effectiveDate: '2026-06-14',
      notifiedOn: '2026-06-15',
      personNos: [head, wife, son, daughter],
      address: ADDRESS_2,
      household: { mode: 'same' },
    });
    for (const member of [head, wife, son, daughter]) {
      p = await get(`/residents/${member}`);
      expect(p['current']['address']).toEqual(ADDRESS_2);
      expect(p['current']['previousAddress']['text']).toBe(ADDRESS.text);
    }
    expect(reasons(await get(`/residents/${daughter}`))).toEqual(['birth', 'moveWithin']);

    // 4. The son splits into a household of his own.
    clock.setDay('2026-08-01');
    const split = await post('/changes/household-split', {
      effectiveDate: '2026-08-01',
      notifiedOn: '2026-08-01',
      householdNo: household,
      members: [{ personNo: son, relationship: '世帯主' }],
    });
    const sonsHousehold = split['householdNos'].find((x: string) => x !== household) as string;
    expect(sonsHousehold).toBeDefined();
    h = await get(`/households/${sonsHousehold}`);
    expect(h['head']['personNo']).toBe(son);
    expect((await get(`/households/${household}`))['members']).toHaveLength(3);

    // 5. The son moves out of the city.
    clock.setDay('2026-09-10');
    await post('/changes/move-out', {
      notifiedOn: '2026-09-10',
      plannedDate: '2026-09-10',
      personNos: [son],
      destination: { text: '大阪府大阪市北区梅田一丁目1番1号', abroad: false },
    });
    p = await get(`/residents/${son}`);
    expect(p['removed']).toBe(true);
    expect(p['current']).toMatchObject({
      status: 'movedOut',
      householdNo: sonsHousehold,
      relationship: '世帯主',
    });
    expect(reasons(p)).toEqual(['domesticMoveIn', 'moveWithin', 'householdSplit', 'domesticMoveOut']);
    const cert = await get(`/residents/${son}/move-out-certificate`);
    expect(cert).toMatchObject({
      plannedDate: '2026-09-10',
      destination: { text: '大阪府大阪市北区梅田一丁目1番1号' },
    });
    expect((await get(`/households/${sonsHousehold}`))['members']).toEqual([]);

    // 6. The head dies: the household is left without a head.
    clock.setDay('2026-10-05');
    const death = await post('/changes/death', {
      effectiveDate: '2026-10-03',
      notifiedOn: '2026-10-05',
      personNo: head,
      deathDate: '2026-10-03',
    });
    h = await get(`/households/${household}`);
    expect(h['head']).toBeUndefined();
    expect(h['members'].map((m: Json) => m['personNo'])).toEqual([wife, daughter]);
    expect((await get(`/residents/${head}`))['current']['status']).toBe('dead');

    // 7. The death was registered in error: it is cancelled, and the head is back.
    clock.setDay('2026-10-06');
    const cancel = await post('/changes/cancellation', {
      changeId: death['changeId'],
      notes: '届出人の誤りによる取消し',
    });
    expect(cancel).toMatchObject({ kind: 'entry', reason: 'removalCancelled' });
    p = await get(`/residents/${head}`);
    expect(p['current']['status']).toBe('current');
    expect(p['current']['removal']).toBeUndefined();
    expect(reasons(p)).toEqual(['domesticMoveIn', 'moveWithin', 'death', 'removalCancelled']);
    expect(p['history'][2]['cancelledByChangeId']).toBe(cancel['changeId']);
    expect(p['history'][3]['cancelsChangeId']).toBe(death['changeId']);
    h = await get(`/households/${household}`);
    expect(h['head']['personNo']).toBe(head);
    expect(h['members'].map((m: Json) => m['personNo'])).toEqual([head, wife, daughter]);

    // Search finds the family, the removed son marked.
    const found = await get(`/residents?name=${encodeURIComponent('田中')}`);
    expect(found['total']).toBe(4);
    expect(found['hits'].find((x: Json) => x['personNo'] === son)['removed']).toBe(true);
  });
});

describe('the API itself', () => {
  it('answers refusals as JSON with a code and a Japanese message', async () => {
    const bad = await post('/changes/move-in', moveInOf([person({ myNumber: '621498320258' })]), 400);
    expect(bad).toMatchObject({ code: 'INVALID_MY_NUMBER' });
    expect(bad['message']).toContain('個人番号');
    expect(JSON.stringify(bad)).not.toContain('621498320258');
    const future = await post('/changes/move-in', moveInOf([person()], { effectiveDate: '2099-01-01' }), 422);
    expect(future['code']).toBe('FUTURE_EFFECTIVE_DATE');
    const missing = await post(
      '/changes/death',
      { personNo: '0000009997', effectiveDate: '2026-01-01', deathDate: '2026-01-01' },
      404,
    );
    expect(missing['code']).toBe('PERSON_NOT_FOUND');
    const empty = await post('/changes/move-in', {}, 400);
    expect(empty['code']).toBe('INVALID_REQUEST');
    expect(empty['message']).toMatch(/入力内容に誤りがあります/);
  });

  it('marks API responses as not to be cached', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/residents' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves its OpenAPI document listing every change', async () => {
    const doc = await get('/openapi.json');
    expect(doc['openapi']).toMatch(/^3\./);
    const paths = Object.keys(doc['paths'] as object);
    for (const change of [
      'move-in',
      'birth',
      'move-within',
      'move-out',
      'move-in-notice',
      'household-split',
      'household-merge',
      'head-change',
      'death',
      'ex-officio-entry',
      'ex-officio-removal',
      'correction',
      'my-number-change',
      'former-surname',
      'alias',
      'cancellation',
    ]) {
      expect(paths).toContain(`/api/changes/${change}`);
    }
    expect(paths).toContain('/api/residents/{personNo}');
    expect(paths).toContain('/api/households/{householdNo}');
  });

  it('refuses the development identity in production', async () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://localhost/none',
      JUMIN_LG_CODE: TEST_LG_CODE,
    });
    expect(config.devIdentity).toBeUndefined();
    const prod = await buildApp({ config, db: handle.db, clock });
    const res = await prod.inject({ method: 'GET', url: '/api/residents' });
    expect(res.statusCode).toBe(401);
    expect(res.json<Json>()['code']).toBe('UNAUTHENTICATED');
    await prod.close();
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DATABASE_URL/);
  });
});
