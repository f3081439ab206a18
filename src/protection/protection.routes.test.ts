/**
 * The protection routes over HTTP, in a small app shaped like the real one (routes under /api, one error
 * mapper); the acting staff member comes from a test header instead of a session. The deny-by-default and
 * other-municipality checks over all routes live in src/permissions.test.ts once the lead mounts these.
 */
import { configureHttp } from '../http.js';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { FixedClock, PERMISSIONS, type Permission } from '../shared/index.js';
import { protectionRoutes } from './index.js';
import { TEST_LG_CODE, household } from './testing.js';
import { testKeyring } from '../keys/testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
const clock = new FixedClock('2026-11-26T01:00:00Z');
const declared: Array<{ url: string; permission: unknown }> = [];
let target: { personNos: string[]; householdNo: string };

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  target = await household(handle.db, clock, 2, '2026-11-20');
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE });
  app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.addHook('onRoute', (r) => {
    declared.push({ url: r.url, permission: r.config?.permission });
  });
  configureHttp(app);
  await app.register(
    async (api) =>
      api.register(protectionRoutes, {
        db: handle.db,
        clock,
        config,
        keyring: testKeyring(handle.db),
        actorOf: (request) => ({
          lgCode: TEST_LG_CODE,
          staffId: 'staff-http',
          terminalId: 'T-01',
          permissions: new Set(
            String(request.headers['x-test-permissions'] ?? '')
              .split(',')
              .filter(Boolean) as Permission[],
          ),
        }),
      }),
    { prefix: '/api' },
  );
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await handle.close();
});

function call(method: 'GET' | 'POST', url: string, permissions: readonly Permission[], payload?: object) {
  return app.inject({
    method,
    url: `/api${url}`,
    headers: { 'x-test-permissions': permissions.join(',') },
    ...(payload ? { payload } : {}),
  });
}

describe('protection routes', () => {
  it('every route declares a permission', () => {
    const routes = declared.filter((r) => r.url.startsWith('/api/protection'));
    expect(routes.length).toBeGreaterThanOrEqual(12);
    expect(routes.filter((r) => !PERMISSIONS.includes(r.permission as Permission))).toEqual([]);
  });

  it('sets, lists, temporarily releases and releases a suppression, each with its own permission', async () => {
    const set = await call('POST', '/protection/suppressions', ['suppression'], {
      target: { householdNo: target.householdNo },
      process: 'certificate',
      level: 'alert',
      startsOn: '2026-11-26',
      reason: '確認',
    });
    expect(set.statusCode, set.body).toBe(201);
    const id = set.json<{ suppressionId: number }>().suppressionId;
    const list = await call('GET', `/protection/suppressions?householdNo=${target.householdNo}`, [
      'suppression',
    ]);
    expect(list.json<{ suppressions: unknown[] }>().suppressions).toHaveLength(1);
    const forbidden = await call('POST', `/protection/suppressions/${id}/release`, ['suppression'], {
      reason: 'x',
    });
    expect(forbidden.statusCode).toBe(403);
    const temporary = await call(
      'POST',
      `/protection/suppressions/${id}/temporary-release`,
      ['suppressionTemporaryRelease'],
      { reason: 'x' },
    );
    expect(temporary.statusCode, temporary.body).toBe(200);
    const released = await call('POST', `/protection/suppressions/${id}/release`, ['suppressionRelease'], {
      reason: 'x',
    });
    expect(released.statusCode, released.body).toBe(200);
    const again = await call('POST', `/protection/suppressions/${id}/release`, ['suppressionRelease'], {
      reason: 'x',
    });
    expect(again.statusCode).toBe(409);
  });

  it('runs a support measure from application to details, with case release and deadlines', async () => {
    const officer: Permission[] = ['supportMeasure'];
    const applied = await call('POST', '/protection/support-measures', officer, {
      applicant: { personNo: target.personNos[0] },
      protectedPersons: [{ personNo: target.personNos[1] }],
      perpetrator: { name: '加害　次郎' },
      blockedServices: ['residentCopy'],
      reason: 'ストーカー行為',
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const id = applied.json<{ measureId: number }>().measureId;
    const decided = await call('POST', `/protection/support-measures/${id}/decide`, officer, {});
    expect(decided.json()).toMatchObject({ status: 'active', endsOn: '2027-11-25' });
    const early = await call('POST', `/protection/support-measures/${id}/extend`, officer, {});
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'EXTENSION_NOT_YET_OPEN' });
    const refused = await call('GET', `/protection/support-measures/${id}`, ['inquiry']);
    expect(refused.statusCode).toBe(403);
    const details = await call('GET', `/protection/support-measures/${id}`, officer);
    expect(details.json()).toMatchObject({ perpetrator: { name: '加害　次郎' }, reason: 'ストーカー行為' });
    const release = await call('POST', `/protection/support-measures/${id}/case-releases`, officer, {
      reason: '本人の同意',
    });
    expect(release.statusCode, release.body).toBe(201);
    const deadlines = await call('GET', '/protection/support-measures/deadlines', officer);
    expect(deadlines.json()).toEqual({ deadlines: [] });
    const missing = await call('POST', '/protection/support-measures/999999/terminate', officer, {});
    expect(missing.statusCode).toBe(404);
    const ended = await call('POST', `/protection/support-measures/${id}/terminate`, officer);
    expect(ended.json()).toMatchObject({ status: 'ended' });
  });
});
