/**
 * Deny by default, checked over every route the app has: each declares a permission; each answers 401
 * without a session and 403 to a staff member who holds every permission but its own; and a staff member
 * of another municipality, holding every permission, reaches none of this municipality's data.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { loadOrCreateAuditKey } from './audit/index.js';
import { loadConfig } from './config.js';
import type { DatabaseHandle } from './db/index.js';
import { openTestDatabase } from './db/testing.js';
import { ensureMunicipality } from './registry/index.js';
import { TEST_LG_CODE, moveInOf, person } from './registry/testing.js';
import { FixedClock, PERMISSIONS, type Permission } from './shared/index.js';
import { declaredRoutes } from './staff/index.js';
import { OTHER_LG_CODE, call, createAccount, signIn, type Signed } from './staff/testing.js';
import { testKeyring } from './keys/testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
const clock = new FixedClock('2026-11-26T01:00:00Z');
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-perm-'));
const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE });

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, 'テスト市');
  await ensureMunicipality(handle.db, OTHER_LG_CODE, '隣接区');
  const auditKey = loadOrCreateAuditKey(path.join(keyDir, 'audit.pem'), { create: true });
  app = await buildApp({ config, db: handle.db, clock, auditKey, keyring: testKeyring(handle.db) });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await handle.close();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

function apiRoutes() {
  return declaredRoutes(app).filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD');
}

/** A concrete URL for a route pattern: the check happens before the parameters are looked at. */
function concrete(url: string): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => (name === 'personNo' ? '0000000018' : '1'));
}

async function signInWith(permissions: Permission[], lgCode = TEST_LG_CODE): Promise<Signed> {
  const account = await createAccount(handle.db, config, clock, permissions, { lgCode });
  return signIn(app, clock, account);
}

describe('every route', () => {
  it('declares the permission it needs', () => {
    const undeclared = apiRoutes().filter((r) => r.permission === undefined);
    expect(undeclared).toEqual([]);
    expect(apiRoutes().length).toBeGreaterThan(30);
  });

  it('answers 401 without a session', async () => {
    for (const r of apiRoutes().filter((x) => x.permission !== 'public')) {
      const res = await app.inject({
        method: r.method as 'GET',
        url: concrete(r.url),
        headers: { 'content-type': 'application/json' },
        payload: r.method === 'GET' ? undefined : '{}',
      });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
    }
  });

  it('answers 403 to a staff member holding every permission but its own', { timeout: 120_000 }, async () => {
    const byPermission = new Map<Permission, Signed>();
    for (const r of apiRoutes()) {
      const needed = r.permission;
      if (needed === undefined || needed === 'public' || needed === 'authenticated') continue;
      let session = byPermission.get(needed);
      if (!session) {
        session = await signInWith(PERMISSIONS.filter((p) => p !== needed));
        byPermission.set(needed, session);
      }
      const res = await call(app, session, r.method as 'GET', concrete(r.url), {
        ...(r.method === 'GET' ? {} : { payload: {} }),
      });
      expect(res.statusCode, `${r.method} ${r.url} without ${needed}`).toBe(403);
      expect(res.json<{ code: string }>().code).toBe('FORBIDDEN');
    }
    expect(byPermission.size).toBeGreaterThanOrEqual(5);
  });
});

describe("another municipality's staff", () => {
  it("reaches none of this municipality's residents, changes, staff or log", async () => {
    const ours = await signInWith([...PERMISSIONS]);
    const moved = await call(app, ours, 'POST', '/api/changes/move-in', { payload: moveInOf([person()]) });
    expect(moved.statusCode, moved.body).toBe(201);
    const { changeId, persons, householdNos } = moved.json<{
      changeId: number;
      persons: Array<{ personNo: string }>;
      householdNos: string[];
    }>();
    const personNo = persons[0]!.personNo;
    const ourStaff = await createAccount(handle.db, config, clock, ['inquiry']);

    const theirs = await signInWith([...PERMISSIONS], OTHER_LG_CODE);
    const purpose = `purpose=${encodeURIComponent('届出の受付')}`;
    const refusals: Array<[string, 'GET' | 'POST', string, object?]> = [
      ['inquiry', 'GET', `/api/residents/${personNo}?${purpose}`],
      ['household', 'GET', `/api/households/${householdNos[0]!}?${purpose}`],
      ['move-out data', 'GET', `/api/residents/${personNo}/move-out-certificate?${purpose}`],
      ['edit lock', 'POST', `/api/residents/${personNo}/edit-lock`, {}],
      [
        'death',
        'POST',
        '/api/changes/death',
        { personNo, effectiveDate: '2026-11-26', deathDate: '2026-11-26' },
      ],
      ['cancellation', 'POST', '/api/changes/cancellation', { changeId }],
      ['staff', 'GET', `/api/staff/${ourStaff.staffId}`],
      ['unlock', 'POST', `/api/staff/${ourStaff.staffId}/unlock`, {}],
    ];
    for (const [what, method, url, payload] of refusals) {
      const res = await call(app, theirs, method, url, payload ? { payload } : {});
      expect(res.statusCode, `${what}: ${res.body}`).toBe(404);
    }
    const search = await call(app, theirs, 'GET', `/api/residents?personNo=${personNo}`);
    expect(search.json<{ total: number }>().total).toBe(0);
    const staff = await call(app, theirs, 'GET', '/api/staff');
    expect(staff.body).not.toContain(ourStaff.staffId);
    const log = await call(app, theirs, 'GET', `/api/audit/log?personNo=${personNo}`);
    expect(log.statusCode, log.body).toBe(200);
    // Their log holds only their own refused attempts, none of this municipality's entries.
    const entries = log.json<{ entries: Array<{ outcome: string; staffId: string }> }>().entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.outcome === 'refused')).toBe(true);
  });
});
