/**
 * The register through its HTTP API: the life of one family, step by step, with the current records and
 * histories checked after each step; plus the API's error shape and its OpenAPI document.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadOrCreateAuditKey, searchAccessLog } from './audit/index.js';
import { loadConfig } from './config.js';
import type { DatabaseHandle } from './db/index.js';
import { openTestDatabase } from './db/testing.js';
import { ensureMunicipality } from './registry/index.js';
import { ADDRESS, ADDRESS_2, TEST_LG_CODE, moveInOf, person } from './registry/testing.js';
import { FixedClock, PERMISSIONS } from './shared/index.js';
import { call, createAccount, signIn, type Signed } from './staff/testing.js';
import { testKeyring } from './keys/testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
let session: Signed;
let staffId: string;
let account: Awaited<ReturnType<typeof createAccount>>;
const clock = new FixedClock('2026-04-01T01:00:00Z');
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-app-'));
const PURPOSE = '届出の受付';

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE });
  const auditKey = loadOrCreateAuditKey(path.join(keyDir, 'audit.pem'), { create: true });
  app = await buildApp({ config, db: handle.db, clock, auditKey, keyring: testKeyring(handle.db) });
  account = await createAccount(handle.db, config, clock, [...PERMISSIONS]);
  staffId = account.staffId;
  session = await signIn(app, clock, account, { 'x-terminal-id': 'COUNTER-3' });
});
afterAll(async () => {
  await app.close();
  await handle.close();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

interface Json {
  [key: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies in tests
}

async function post(url: string, body: unknown, expected = 201): Promise<Json> {
  const res = await call(app, session, 'POST', `/api${url}`, { payload: body as object });
  expect(res.statusCode, res.body).toBe(expected);
  return res.json<Json>();
}

async function get(url: string, expected = 200): Promise<Json> {
  const res = await call(app, session, 'GET', `/api${url}`);
  expect(res.statusCode, res.body).toBe(expected);
  return res.json<Json>();
}

/** A new working day: the clerk signs in again (sessions end after hours of inactivity). */
async function workOn(day: string): Promise<void> {
  clock.set(`${day}T11:00:00+09:00`);
  session = await signIn(app, clock, account, { 'x-terminal-id': 'COUNTER-3' });
}

/** Opens a person's record for a stated purpose, revealing every hidden item. */
function inquiry(personNo: string): Promise<Json> {
  return get(
    `/residents/${personNo}?purpose=${encodeURIComponent(PURPOSE)}&reveal=myNumber,residentCode,honseki`,
  );
}

function householdView(householdNo: string): Promise<Json> {
  return get(`/households/${householdNo}?purpose=${encodeURIComponent(PURPOSE)}`);
}

const reasons = (inquiry: Json) => (inquiry['history'] as Json[]).map((h) => h['reason'] as string);

describe('a family through the HTTP API', () => {
  it('lives its life: move-in, birth, move within, split, move-out, death, cancelled death', async () => {
    // 1. A family of three moves in.
    await workOn('2026-04-01');
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
    const [head, wife, son] = (moveIn['persons'] as Json[]).map((p) => p['personNo'] as string) as [
      string,
      string,
      string,
    ];
    const household = moveIn['householdNos'][0] as string;
    let h = await householdView(household);
    expect(h['members'].map((m: Json) => m['relationship'])).toEqual(['世帯主', '妻', '子']);
    let p = await inquiry(head);
    expect(p['current']).toMatchObject({
      status: 'current',
      residentSince: '2026-03-28',
      notifiedOn: '2026-04-01',
    });
    expect(p['current']['birthDate']).toEqual({ kind: 'exact', date: '1980-01-15' });
    expect(p['history'][0]).toMatchObject({
      terminalId: 'COUNTER-3',
      staffId,
      processedOn: '2026-04-01',
    });

    // 2. A child is born.
    await workOn('2026-05-10');
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
    h = await householdView(household);
    expect(h['members'].map((m: Json) => m['personNo'])).toEqual([head, wife, son, daughter]);

    // 3. The household moves within the city.
    await workOn('2026-06-15');
    await post('/changes/move-within', {
      effectiveDate: '2026-06-14',
      notifiedOn: '2026-06-15',
      personNos: [head, wife, son, daughter],
      address: ADDRESS_2,
      household: { mode: 'same' },
    });
    for (const member of [head, wife, son, daughter]) {
      p = await inquiry(member);
      expect(p['current']['address']).toEqual(ADDRESS_2);
      expect(p['current']['previousAddress']['text']).toBe(ADDRESS.text);
    }
    expect(reasons(await inquiry(daughter))).toEqual(['birth', 'moveWithin']);

    // 4. The son splits into a household of his own.
    await workOn('2026-08-01');
    const split = await post('/changes/household-split', {
      effectiveDate: '2026-08-01',
      notifiedOn: '2026-08-01',
      householdNo: household,
      members: [{ personNo: son, relationship: '世帯主' }],
    });
    const sonsHousehold = split['householdNos'].find((x: string) => x !== household) as string;
    expect(sonsHousehold).toBeDefined();
    h = await householdView(sonsHousehold);
    expect(h['head']['personNo']).toBe(son);
    expect((await householdView(household))['members']).toHaveLength(3);

    // 5. The son moves out of the city.
    await workOn('2026-09-10');
    await post('/changes/move-out', {
      notifiedOn: '2026-09-10',
      plannedDate: '2026-09-10',
      personNos: [son],
      destination: { text: '大阪府大阪市北区梅田一丁目1番1号', abroad: false },
    });
    p = await inquiry(son);
    expect(p['removed']).toBe(true);
    expect(p['current']).toMatchObject({
      status: 'movedOut',
      householdNo: sonsHousehold,
      relationship: '世帯主',
    });
    expect(reasons(p)).toEqual(['domesticMoveIn', 'moveWithin', 'householdSplit', 'domesticMoveOut']);
    const cert = await get(`/residents/${son}/move-out-certificate?purpose=${encodeURIComponent(PURPOSE)}`);
    expect(cert).toMatchObject({
      plannedDate: '2026-09-10',
      destination: { text: '大阪府大阪市北区梅田一丁目1番1号' },
    });
    expect((await householdView(sonsHousehold))['members']).toEqual([]);

    // 6. The head dies: the household is left without a head.
    await workOn('2026-10-05');
    const death = await post('/changes/death', {
      effectiveDate: '2026-10-03',
      notifiedOn: '2026-10-05',
      personNo: head,
      deathDate: '2026-10-03',
    });
    h = await householdView(household);
    expect(h['head']).toBeUndefined();
    expect(h['members'].map((m: Json) => m['personNo'])).toEqual([wife, daughter]);
    expect((await inquiry(head))['current']['status']).toBe('dead');

    // 7. The death was registered in error: it is cancelled, and the head is back.
    await workOn('2026-10-06');
    const cancel = await post('/changes/cancellation', {
      changeId: death['changeId'],
      notes: '届出人の誤りによる取消し',
    });
    expect(cancel).toMatchObject({ kind: 'entry', reason: 'removalCancelled' });
    p = await inquiry(head);
    expect(p['current']['status']).toBe('current');
    expect(p['current']['removal']).toBeUndefined();
    expect(reasons(p)).toEqual(['domesticMoveIn', 'moveWithin', 'death', 'removalCancelled']);
    expect(p['history'][2]['cancelledByChangeId']).toBe(cancel['changeId']);
    expect(p['history'][3]['cancelsChangeId']).toBe(death['changeId']);
    h = await householdView(household);
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
    const res = await call(app, session, 'GET', '/api/residents');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('sends the security headers on API answers, refusals and the UI’s files alike', async () => {
    const webRoot = fs.mkdtempSync(path.join(keyDir, 'web-'));
    fs.mkdirSync(path.join(webRoot, 'assets'));
    fs.writeFileSync(
      path.join(webRoot, 'index.html'),
      '<!doctype html><script type="module" src="/assets/a.js"></script>',
    );
    fs.writeFileSync(path.join(webRoot, 'assets', 'a.js'), 'export {};');
    const ui = await buildApp({
      config: loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE }),
      db: handle.db,
      clock,
      auditKey: loadOrCreateAuditKey(path.join(keyDir, 'audit.pem'), { create: true }),
      keyring: testKeyring(handle.db),
      webRoot,
    });
    try {
      const answers = [
        await call(app, session, 'GET', '/api/residents'),
        await app.inject({ method: 'GET', url: '/api/residents' }), // 401
        await app.inject({ method: 'GET', url: '/api/no-such-route' }), // 404
        await ui.inject({ method: 'GET', url: '/' }),
        await ui.inject({ method: 'GET', url: '/assets/a.js' }),
      ];
      expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 404, 200, 200]);
      for (const res of answers) {
        const csp = String(res.headers['content-security-policy']);
        const directives = new Map(
          csp.split(';').map((d) => {
            const [name, ...values] = d.trim().split(/\s+/);
            return [name!, values.join(' ')] as const;
          }),
        );
        expect(directives.get('default-src')).toBe("'self'");
        expect(directives.get('script-src')).toBe("'self'");
        expect(directives.get('frame-ancestors')).toBe("'none'");
        // The certificate preview: a blob: URL in an iframe.
        expect(directives.get('frame-src')).toBe("'self' blob:");
        expect(csp).not.toContain('unsafe-inline');
        expect(csp).not.toContain('unsafe-eval');
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        expect(res.headers['x-frame-options']).toBe('DENY');
      }
      expect(answers[4]!.headers['content-type']).toMatch(/javascript/);
    } finally {
      await ui.close();
    }
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

  it('answers 401 without a session and logs every act in the access log', async () => {
    const anonymous = await app.inject({ method: 'GET', url: '/api/residents' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json<Json>()['code']).toBe('UNAUTHENTICATED');
    for (const f of ['login', 'change', 'inquiry', 'reveal', 'search'] as const) {
      const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: f, pageSize: 1 });
      expect(log.total, f).toBeGreaterThan(0);
    }
  });

  it('requires a purpose to open a record, and hides 個人番号 unless revealed', async () => {
    const r = await post('/changes/move-in', moveInOf([person()], { effectiveDate: '2026-01-05' }));
    const personNo = r['persons'][0]['personNo'] as string;
    const noPurpose = await get(`/residents/${personNo}`, 400);
    expect(noPurpose['code']).toBe('PURPOSE_REQUIRED');
    const masked = await get(`/residents/${personNo}?purpose=${encodeURIComponent(PURPOSE)}`);
    expect(masked['current']['myNumber']).toBeUndefined();
    expect(masked['current']['masked']).toEqual(
      expect.arrayContaining(['myNumber', 'residentCode', 'honseki']),
    );
    const shown = await inquiry(personNo);
    expect(shown['current']['myNumber']).toMatch(/^\d{12}$/);
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { personNo, pageSize: 10 });
    expect(log.entries.find((e) => e.function === 'reveal')).toMatchObject({
      myNumberAccessed: true,
      purpose: PURPOSE,
    });
    expect(log.entries.find((e) => e.function === 'inquiry')).toMatchObject({ myNumberAccessed: false });
  });
});
