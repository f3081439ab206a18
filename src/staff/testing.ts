/**
 * For tests of the staff module: a small HTTP app wired the way the real one is (auth plugin on the root,
 * routes under /api, one error mapper), probe routes with and without declared permissions, and helpers
 * to create accounts and sign in through the API.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { configureHttp } from '../http.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../config.js';
import type { Db } from '../db/index.js';
import { FixedClock, systemActor, type Permission } from '../shared/index.js';
import { actorOf, authPlugin, SESSION_COOKIE } from './auth.plugin.js';
import { authRoutes } from './auth.routes.js';
import { totpCode } from './credentials.js';
import { staffRoutes } from './staff.routes.js';
import { terminalRoutes } from './terminal.routes.js';
import { StaffService } from './staff.service.js';
import { testKeyring } from '../keys/testing.js';

export const TEST_LG_CODE = '999016';
export const OTHER_LG_CODE = '131016';
export const LOCKOUT_THRESHOLD = 3;
export const PASSWORD = 'Correct-Horse-42';

export function testConfig(): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JUMIN_LG_CODE: TEST_LG_CODE,
    JUMIN_LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
    JUMIN_SESSION_IDLE_MINUTES: '15',
    JUMIN_SESSION_ABSOLUTE_HOURS: '8',
  });
}

/** 10:00 JST on a weekday. */
export function testClock(): FixedClock {
  return new FixedClock('2026-11-26T01:00:00Z');
}

export function advance(clock: FixedClock, ms: number): void {
  clock.set(new Date(clock.now().getTime() + ms).toISOString());
}

export async function addMunicipalities(db: Db): Promise<void> {
  await db
    .insertInto('municipality')
    .values([
      { lg_code: TEST_LG_CODE, name: 'テスト市' },
      { lg_code: OTHER_LG_CODE, name: '隣接区' },
    ])
    .onConflict((oc) => oc.column('lg_code').doNothing())
    .execute();
}

/** The app under test: the same shape the lead wires in src/app.ts. */
export async function buildTestApp(db: Db, config: Config, clock: FixedClock): Promise<FastifyInstance> {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  configureHttp(app);

  await app.register(authPlugin, { db, config, clock, keyring: testKeyring(db) });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { db, config, clock, keyring: testKeyring(db) });
      await api.register(staffRoutes, { db, config, clock, keyring: testKeyring(db) });
      await api.register(terminalRoutes, { db, config, clock, keyring: testKeyring(db) });
      api.get('/health', { config: { permission: 'public' } }, () => ({ status: 'ok' }));
      // Probes standing in for other modules' routes.
      api.get('/probe/inquiry', { config: { permission: 'inquiry' } }, (request) => ({
        staffId: actorOf(request).staffId,
      }));
      api.post('/probe/inquiry', { config: { permission: 'inquiry' } }, () => ({ ok: true }));
      api.get('/probe/whoami', { config: { permission: 'authenticated' } }, (request) => {
        const actor = actorOf(request);
        return { ...actor, permissions: [...actor.permissions].sort() };
      });
      api.get('/probe/undeclared', () => ({ leaked: true }));
    },
    { prefix: '/api' },
  );
  app.get('/', () => 'ui');
  await app.ready();
  return app;
}

export interface TestAccount {
  staffId: string;
  loginName: string;
  totpSecret: string;
  lgCode: string;
}

let serial = 0;

/** Creates an account directly through the service (as the CLI does). */
export async function createAccount(
  db: Db,
  config: Config,
  clock: FixedClock,
  permissions: Permission[],
  options: { lgCode?: string; loginName?: string } = {},
): Promise<TestAccount> {
  serial += 1;
  const lgCode = options.lgCode ?? TEST_LG_CODE;
  const loginName = options.loginName ?? `user${serial}`;
  const created = await new StaffService(db, config, clock, testKeyring(db)).create(systemActor(lgCode), {
    loginName,
    displayName: `職員${serial}`,
    familyName: '試験',
    address: '東京都千代田区千代田1番',
    password: PASSWORD,
    permissions,
  });
  return { staffId: created.staff.staffId, loginName, totpSecret: created.totpSecret, lgCode };
}

export interface Signed {
  cookie: string;
  csrf: string;
}

export function sessionCookieOf(res: LightMyRequestResponse): string | undefined {
  const c = res.cookies.find((k) => k.name === SESSION_COOKIE);
  return c?.value;
}

export async function login(
  app: FastifyInstance,
  account: { loginName: string; lgCode?: string },
  password = PASSWORD,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: {
      loginName: account.loginName,
      password,
      ...(account.lgCode ? { lgCode: account.lgCode } : {}),
    },
    headers,
  });
}

export async function secondFactor(
  app: FastifyInstance,
  cookie: string | undefined,
  code: string,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: '/api/auth/second-factor',
    payload: { code },
    ...(cookie ? { cookies: { [SESSION_COOKIE]: cookie } } : {}),
  });
}

/**
 * Signs in through both steps. Moves the clock one TOTP step first, so that signing the same account in
 * twice in one test is not a replay.
 */
export async function signIn(
  app: FastifyInstance,
  clock: FixedClock,
  account: TestAccount,
  headers: Record<string, string> = {},
): Promise<Signed> {
  advance(clock, 30_000);
  const first = await login(app, account, PASSWORD, headers);
  expect(first.statusCode, first.body).toBe(200);
  const second = await secondFactor(app, sessionCookieOf(first), totpCode(account.totpSecret, clock.now()));
  expect(second.statusCode, second.body).toBe(200);
  return { cookie: sessionCookieOf(second)!, csrf: second.json<{ csrfToken: string }>().csrfToken };
}

/** A request in a session: the cookie always, the CSRF token unless `csrf: null`. */
export async function call(
  app: FastifyInstance,
  signed: Signed | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  options: { payload?: object; csrf?: string | null } = {},
): Promise<LightMyRequestResponse> {
  const csrf = options.csrf === undefined ? signed?.csrf : options.csrf;
  return app.inject({
    method,
    url,
    ...(options.payload ? { payload: options.payload } : {}),
    ...(signed ? { cookies: { [SESSION_COOKIE]: signed.cookie } } : {}),
    headers: csrf ? { 'x-csrf-token': csrf } : {},
  });
}
