/**
 * Registered terminals through the HTTP API: an administrator registers the browser (a long-lived
 * `__Host-` cookie holding a token whose hash alone is stored); sign-in and every later request then carry
 * the terminal's id into the session and the access log; a revoked or foreign terminal is 'unknown'.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAccessLog } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import type { FixedClock } from '../shared/index.js';
import { SESSION_COOKIE } from './auth.plugin.js';
import { sessionHashOf, totpCode } from './credentials.js';
import { TERMINAL_COOKIE } from './terminal.js';
import {
  addMunicipalities,
  advance,
  buildTestApp,
  createAccount,
  OTHER_LG_CODE,
  PASSWORD,
  sessionCookieOf,
  testClock,
  testConfig,
  TEST_LG_CODE,
  type Signed,
  type TestAccount,
} from './testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
let config: Config;
let clock: FixedClock;

beforeAll(async () => {
  handle = await openTestDatabase();
  await addMunicipalities(handle.db);
  config = testConfig();
  clock = testClock();
  app = await buildTestApp(handle.db, config, clock);
});
afterAll(async () => {
  await app.close();
  await handle.close();
});

/** A browser: its cookies (session and terminal) kept across requests. */
class Browser {
  terminal: string | undefined;
  signed: Signed | undefined;

  async request(
    method: 'GET' | 'POST',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const cookies: Record<string, string> = {};
    if (this.signed) cookies[SESSION_COOKIE] = this.signed.cookie;
    if (this.terminal) cookies[TERMINAL_COOKIE] = this.terminal;
    const res = await app.inject({
      method,
      url,
      cookies,
      ...(payload ? { payload } : {}),
      headers: {
        ...headers,
        ...(this.signed && method !== 'GET' ? { 'x-csrf-token': this.signed.csrf } : {}),
      },
    });
    const t = res.cookies.find((c) => c.name === TERMINAL_COOKIE);
    if (t) this.terminal = t.value;
    return res;
  }

  async signIn(a: TestAccount, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    advance(clock, 30_000);
    this.signed = undefined;
    const first = await this.request(
      'POST',
      '/api/auth/login',
      { loginName: a.loginName, password: PASSWORD, lgCode: a.lgCode },
      headers,
    );
    expect(first.statusCode, first.body).toBe(200);
    this.signed = { cookie: sessionCookieOf(first)!, csrf: '' };
    const second = await this.request('POST', '/api/auth/second-factor', {
      code: totpCode(a.totpSecret, clock.now()),
    });
    expect(second.statusCode, second.body).toBe(200);
    this.signed = { cookie: sessionCookieOf(second)!, csrf: second.json<{ csrfToken: string }>().csrfToken };
    return second;
  }

  async whoami(): Promise<string> {
    const res = await this.request('GET', '/api/probe/whoami');
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ terminalId: string }>().terminalId;
  }
}

async function lastLogin(staffId: string) {
  const { entries } = await searchAccessLog(handle.db, TEST_LG_CODE, { staffId, pageSize: 500 });
  return entries.filter((e) => e.function === 'login').sort((x, y) => y.seq - x.seq)[0];
}

describe('terminal registration', () => {
  it('registers the browser with a Secure, HttpOnly, SameSite=Strict __Host- cookie; its token is stored hashed', async () => {
    const admin = await createAccount(handle.db, config, clock, ['staffAdmin']);
    const browser = new Browser();
    expect((await browser.request('GET', '/api/auth/terminal')).json()).toEqual({
      registered: false,
      terminalId: 'unknown',
      name: null,
    });
    await browser.signIn(admin);
    expect(await browser.whoami()).toBe('unknown');

    const res = await browser.request('POST', '/api/terminals', {
      terminalId: 'MADO-01',
      name: '本庁舎1階 窓口1',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      terminalId: 'MADO-01',
      name: '本庁舎1階 窓口1',
      registeredBy: admin.staffId,
      revokedAt: null,
    });
    const cookie = res.cookies.find((c) => c.name === TERMINAL_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookie.maxAge).toBeGreaterThan(365 * 24 * 60 * 60);
    expect(cookie.domain).toBeUndefined();
    const row = await handle.db
      .selectFrom('terminal')
      .selectAll()
      .where('terminal_id', '=', 'MADO-01')
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sessionHashOf(cookie.value));
    expect(JSON.stringify(row)).not.toContain(cookie.value);

    // The very next request of the open session already comes from the terminal.
    expect(await browser.whoami()).toBe('MADO-01');
    expect((await browser.request('GET', '/api/auth/terminal')).json()).toEqual({
      registered: true,
      terminalId: 'MADO-01',
      name: '本庁舎1階 窓口1',
    });
    const list = await browser.request('GET', '/api/terminals');
    expect(list.json<Array<{ terminalId: string }>>().map((t) => t.terminalId)).toContain('MADO-01');

    // The registration is logged as an administration act at that terminal.
    const { entries } = await searchAccessLog(handle.db, TEST_LG_CODE, {
      staffId: admin.staffId,
      pageSize: 500,
    });
    expect(entries.find((e) => e.details?.['action'] === 'terminalRegistered')).toMatchObject({
      function: 'staffAdmin',
      terminalId: 'MADO-01',
    });

    // The same id cannot be registered twice while active.
    const again = await browser.request('POST', '/api/terminals', {
      terminalId: 'MADO-01',
      name: '別の端末',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('TERMINAL_ID_TAKEN');
    const bad = await browser.request('POST', '/api/terminals', { terminalId: 'unknown', name: 'x' });
    expect(bad.statusCode).toBe(400);
  });

  it('names the terminal at sign-in, in the session and in the log, over any x-terminal-id; revoked, it is unknown', async () => {
    const admin = await createAccount(handle.db, config, clock, ['staffAdmin']);
    const clerk = await createAccount(handle.db, config, clock, ['inquiry']);
    const browser = new Browser();
    await browser.signIn(admin);
    expect(
      (await browser.request('POST', '/api/terminals', { terminalId: 'MADO-02', name: '窓口2' })).statusCode,
    ).toBe(201);

    const signedIn = await browser.signIn(clerk, { 'x-terminal-id': 'CLAIMED-9' });
    expect(signedIn.json()).toMatchObject({ terminalId: 'MADO-02' });
    expect((await lastLogin(clerk.staffId))?.terminalId).toBe('MADO-02');
    expect(await browser.whoami()).toBe('MADO-02');

    // Another browser without the cookie is 'unknown' (or what an API client declares).
    const other = new Browser();
    await other.signIn(clerk);
    expect(await other.whoami()).toBe('unknown');
    // A forged cookie names no terminal.
    other.terminal = 'forged-token';
    expect(await other.whoami()).toBe('unknown');

    // Revoked: the open session's next request is 'unknown', and so is the next sign-in.
    const adminBrowser = new Browser();
    adminBrowser.terminal = browser.terminal;
    await adminBrowser.signIn(admin);
    const revoked = await adminBrowser.request('POST', '/api/terminals/MADO-02/revoke');
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect(await browser.whoami()).toBe('unknown');
    await browser.signIn(clerk);
    expect((await lastLogin(clerk.staffId))?.terminalId).toBe('unknown');
    expect((await adminBrowser.request('POST', '/api/terminals/MADO-02/revoke')).statusCode).toBe(404);
  });

  it('does not lend a terminal of one municipality to another’s staff, nor let them revoke it', async () => {
    const admin = await createAccount(handle.db, config, clock, ['staffAdmin']);
    const outsider = await createAccount(handle.db, config, clock, ['staffAdmin'], { lgCode: OTHER_LG_CODE });
    const browser = new Browser();
    await browser.signIn(admin);
    expect(
      (await browser.request('POST', '/api/terminals', { terminalId: 'MADO-03', name: '窓口3' })).statusCode,
    ).toBe(201);
    await browser.signIn(outsider);
    expect(await browser.whoami()).toBe('unknown');
    expect((await browser.request('POST', '/api/terminals/MADO-03/revoke')).statusCode).toBe(404);
    expect((await browser.request('GET', '/api/terminals')).json()).toEqual([]);
  });

  it('refuses registration to staff without the administration permission', async () => {
    const clerk = await createAccount(handle.db, config, clock, ['inquiry', 'change']);
    const browser = new Browser();
    await browser.signIn(clerk);
    const res = await browser.request('POST', '/api/terminals', { terminalId: 'MADO-04', name: '窓口4' });
    expect(res.statusCode).toBe(403);
    expect(res.cookies.find((c) => c.name === TERMINAL_COOKIE)).toBeUndefined();
  });
});
