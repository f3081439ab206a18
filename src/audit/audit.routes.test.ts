/**
 * The auditors' HTTP API on a bare Fastify app (the staff module's auth hook is not here: the service's
 * own permission check answers 403). Every route declares logReview; each is logged; municipalities are
 * kept apart.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { configureHttp } from '../http.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { PERMISSIONS, type Actor, type Permission } from '../shared/index.js';
import { auditRoutes } from './audit.routes.js';
import { MONITORING, append, auditContext, entry, newMunicipality, testAuditKey } from './testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
const routePermissions = new Map<string, unknown>();
const ctx = auditContext();
let lgA: string;
let lgB: string;

function actorOf(request: { headers: Record<string, string | string[] | undefined> }): Actor {
  const h = (name: string) => String(request.headers[name] ?? '');
  return {
    lgCode: h('x-lg'),
    staffId: h('x-staff'),
    terminalId: 'AUDIT-1',
    permissions: new Set(h('x-perms').split(',').filter(Boolean) as Permission[]),
  };
}

beforeAll(async () => {
  handle = await openTestDatabase();
  lgA = await newMunicipality(handle.db);
  lgB = await newMunicipality(handle.db);
  app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.addHook('onRoute', (route) => {
    routePermissions.set(
      `${route.method as string} ${route.url}`,
      (route.config as { permission?: unknown })?.permission,
    );
  });
  configureHttp(app);
  await app.register(auditRoutes, {
    prefix: '/api',
    db: handle.db,
    clock: ctx.clock,
    config: { monitoring: MONITORING },
    key: testAuditKey(),
    actorOf,
  });
  await app.ready();
  // Something to audit in A: a night-time inquiry (raises an offHours alert).
  ctx.clock.set('2026-11-26T03:00:00+09:00');
  await append(handle.db, entry(lgA), ctx);
  ctx.clock.set('2026-11-26T10:00:00+09:00');
});
afterAll(async () => {
  await app.close();
  await handle.close();
});

const auditor = (lg: string, perms: readonly string[] = ['logReview']) => ({
  'x-lg': lg,
  'x-staff': 'auditor-1',
  'x-perms': perms.join(','),
});

const ROUTES = [
  ['GET', '/api/audit/log'],
  ['GET', '/api/audit/alerts'],
  ['POST', '/api/audit/alerts/1/acknowledge'],
  ['POST', '/api/audit/checkpoints'],
  ['GET', '/api/audit/verification'],
] as const;

describe('audit routes', () => {
  it('every route declares the logReview permission', () => {
    expect(routePermissions.size).toBeGreaterThanOrEqual(ROUTES.length);
    for (const [route, permission] of routePermissions) expect(permission, route).toBe('logReview');
  });

  it('refuses every route to a staff member without logReview, writing nothing', async () => {
    const others = PERMISSIONS.filter((p) => p !== 'logReview');
    for (const [method, url] of ROUTES) {
      const res = await app.inject({
        method,
        url,
        headers: auditor(lgA, others),
        payload: method === 'POST' ? {} : undefined,
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    const log = await app.inject({ method: 'GET', url: '/api/audit/log', headers: auditor(lgA) });
    expect(log.json<{ total: number }>().total).toBe(1); // only the inquiry: no refusal left an entry
  });

  it('searches the log and logs the search itself', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/audit/log?personNo=0000000018&function=inquiry',
      headers: auditor(lgA),
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ total: number; entries: { seq: number; function: string }[] }>();
    expect(body.entries.map((e) => e.seq)).toEqual([1]);
    const all = await app.inject({
      method: 'GET',
      url: '/api/audit/log?function=auditSearch',
      headers: auditor(lgA),
    });
    expect(all.json<{ total: number }>().total).toBeGreaterThanOrEqual(2);
  });

  it('lists and acknowledges alerts, only within the auditor’s municipality', async () => {
    const list = await app.inject({
      method: 'GET',
      url: '/api/audit/alerts?acknowledged=false',
      headers: auditor(lgA),
    });
    expect(list.statusCode, list.body).toBe(200);
    const [alert] = list.json<{ alerts: { alertId: number; rule: string }[] }>().alerts;
    expect(alert).toMatchObject({ rule: 'offHours' });

    const fromB = await app.inject({ method: 'GET', url: '/api/audit/alerts', headers: auditor(lgB) });
    expect(fromB.json<{ total: number }>().total).toBe(0);
    const ackFromB = await app.inject({
      method: 'POST',
      url: `/api/audit/alerts/${alert!.alertId}/acknowledge`,
      headers: auditor(lgB),
      payload: {},
    });
    expect(ackFromB.statusCode).toBe(404);

    const ack = await app.inject({
      method: 'POST',
      url: `/api/audit/alerts/${alert!.alertId}/acknowledge`,
      headers: auditor(lgA),
      payload: { note: '確認済み' },
    });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toMatchObject({ acknowledgedBy: 'auditor-1', acknowledgementNote: '確認済み' });
  });

  it('seals a checkpoint and verifies the chain', async () => {
    const seal = await app.inject({ method: 'POST', url: '/api/audit/checkpoints', headers: auditor(lgA) });
    expect(seal.statusCode, seal.body).toBe(201);
    expect(seal.json()).toMatchObject({
      sealed: true,
      checkpoints: [{ uptoSeq: expect.any(Number), uptoEntryNo: expect.any(String) }],
    });
    const v = await app.inject({ method: 'GET', url: '/api/audit/verification', headers: auditor(lgA) });
    expect(v.statusCode, v.body).toBe(200);
    expect(v.json()).toMatchObject({ lgCode: lgA, ok: true, problems: [], checkpoints: 1 });
    const fromB = await app.inject({ method: 'GET', url: '/api/audit/verification', headers: auditor(lgB) });
    expect(fromB.json()).toMatchObject({ lgCode: lgB, ok: true, checkpoints: 0 });
  });
});
