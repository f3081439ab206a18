/**
 * Signing in and staying signed in, through the HTTP API on a real database: both factors, every
 * refusal, lockout and unlock, timeouts, rotation, sign-out, CSRF and deny-by-default.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAccessLog } from '../audit/index.js';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { systemActor, type FixedClock } from '../shared/index.js';
import { declaredRoutes, SESSION_COOKIE } from './auth.plugin.js';
import { SESSION_TOUCH_INTERVAL_MS } from './auth.service.js';
import { totpCode } from './credentials.js';
import { StaffService } from './staff.service.js';
import {
  addMunicipalities,
  advance,
  buildTestApp,
  call,
  createAccount,
  LOCKOUT_THRESHOLD,
  login,
  secondFactor,
  sessionCookieOf,
  signIn,
  testClock,
  testConfig,
  TEST_LG_CODE,
  type TestAccount,
} from './testing.js';
import { testKeyring } from '../keys/testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
let config: Config;
let clock: FixedClock;
let staff: StaffService;

beforeAll(async () => {
  handle = await openTestDatabase();
  await addMunicipalities(handle.db);
  config = testConfig();
  clock = testClock();
  staff = new StaffService(handle.db, config, clock, testKeyring(handle.db));
  app = await buildTestApp(handle.db, config, clock);
});
afterAll(async () => {
  await app.close();
  await handle.close();
});

const account = (permissions: Parameters<typeof createAccount>[3] = ['inquiry']) =>
  createAccount(handle.db, config, clock, permissions);

const stateOf = (a: TestAccount) => staff.get(systemActor(a.lgCode), a.staffId);

describe('signing in', () => {
  it('takes a password, then a TOTP code, and rotates the session id', async () => {
    const a = await account(['inquiry', 'change']);
    const first = await login(app, a, undefined, { 'x-terminal-id': 'COUNTER-3' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ next: 'secondFactor' });
    const cookie = first.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    const pending = cookie.value;

    // A pending session is not signed in.
    expect((await call(app, { cookie: pending, csrf: '' }, 'GET', '/api/auth/session')).statusCode).toBe(401);

    const second = await secondFactor(app, pending, totpCode(a.totpSecret, clock.now()));
    expect(second.statusCode, second.body).toBe(200);
    const body = second.json();
    expect(body).toMatchObject({
      staffId: a.staffId,
      lgCode: TEST_LG_CODE,
      terminalId: 'COUNTER-3',
      permissions: ['change', 'inquiry'],
    });
    expect(body.displayName).toMatch(/^職員/);
    expect(body.csrfToken).toMatch(/^[\w-]{40,}$/);
    const active = sessionCookieOf(second)!;
    expect(active).not.toBe(pending);

    const session = await call(app, { cookie: active, csrf: body.csrfToken }, 'GET', '/api/auth/session');
    expect(session.statusCode).toBe(200);
    expect(session.json()).toEqual(body);
    const who = await call(app, { cookie: active, csrf: '' }, 'GET', '/api/probe/whoami');
    expect(who.json()).toMatchObject({
      lgCode: TEST_LG_CODE,
      staffId: a.staffId,
      terminalId: 'COUNTER-3',
      permissions: ['change', 'inquiry'],
      profile: { familyName: '試験', address: '東京都千代田区千代田1番' },
    });
    expect(who.json().sessionId).toMatch(/^[0-9a-f]{64}$/);

    // The pending id is ended: neither a session nor usable for a second sign-in.
    expect((await call(app, { cookie: pending, csrf: '' }, 'GET', '/api/auth/session')).statusCode).toBe(401);
    advance(clock, 30_000);
    const again = await secondFactor(app, pending, totpCode(a.totpSecret, clock.now()));
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe('UNAUTHENTICATED');
  });

  it('gives the same answer for an unknown login name and a wrong password', async () => {
    const a = await account();
    const wrong = await login(app, a, 'Wrong-Password-99');
    const unknown = await login(app, { loginName: 'nobody-here' }, 'Wrong-Password-99');
    const otherCity = await login(app, { loginName: a.loginName, lgCode: '011002' });
    for (const res of [wrong, unknown, otherCity]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual(wrong.json());
      expect(sessionCookieOf(res)).toBeUndefined();
    }
    expect(wrong.json().code).toBe('LOGIN_FAILED');
    expect(wrong.json().message).toMatch(/ログイン名またはパスワード/);
    expect((await stateOf(a)).failedAttempts).toBe(1);
  });

  it('refuses a wrong code, and a code that was already used (replay)', async () => {
    const a = await account();
    advance(clock, 30_000);
    const first = await login(app, a);
    const wrongCode = String((Number(totpCode(a.totpSecret, clock.now())) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await secondFactor(app, sessionCookieOf(first), wrongCode);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('SECOND_FACTOR_FAILED');
    expect((await stateOf(a)).failedAttempts).toBe(1);

    const code = totpCode(a.totpSecret, clock.now());
    expect((await secondFactor(app, sessionCookieOf(first), code)).statusCode).toBe(200);
    expect((await stateOf(a)).failedAttempts).toBe(0);

    // The same code again, in the same 30 seconds: someone who saw it cannot use it.
    const replay = await login(app, a);
    const reused = await secondFactor(app, sessionCookieOf(replay), code);
    expect(reused.statusCode).toBe(401);
    expect(reused.json().code).toBe('SECOND_FACTOR_REUSED');
    // Nor the previous step's code, still inside the ±1 step window.
    const previous = totpCode(a.totpSecret, new Date(clock.now().getTime() - 30_000));
    expect((await secondFactor(app, sessionCookieOf(replay), previous)).json().code).toBe(
      'SECOND_FACTOR_REUSED',
    );
    // The next step's code (clock drift of one step) is accepted.
    const next = totpCode(a.totpSecret, new Date(clock.now().getTime() + 30_000));
    expect((await secondFactor(app, sessionCookieOf(replay), next)).statusCode).toBe(200);
  });

  it('gives the second factor five minutes', async () => {
    const a = await account();
    advance(clock, 30_000);
    const first = await login(app, a);
    advance(clock, 5 * 60_000);
    const late = await secondFactor(app, sessionCookieOf(first), totpCode(a.totpSecret, clock.now()));
    expect(late.statusCode).toBe(401);
    expect(late.json().code).toBe('SESSION_EXPIRED');
    expect((await secondFactor(app, undefined, '123456')).json().code).toBe('UNAUTHENTICATED');
  });

  it('takes the terminal from x-terminal-id, refusing a malformed one', async () => {
    const a = await account();
    const bad = await login(app, a, undefined, { 'x-terminal-id': 'counter 3; drop' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('INVALID_TERMINAL_ID');
    const signed = await signIn(app, clock, a);
    expect((await call(app, signed, 'GET', '/api/probe/whoami')).json().terminalId).toBe('unknown');
  });

  it('requires a JSON body for sign-in, which a cross-site form cannot send', async () => {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: 'loginName=a&password=b',
        headers: { 'content-type': type },
      });
      expect(res.statusCode, type).toBe(415);
      expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('lockout', () => {
  it(`locks after ${LOCKOUT_THRESHOLD} wrong passwords, even against the right one, until an administrator unlocks`, async () => {
    const a = await account();
    for (let i = 1; i < LOCKOUT_THRESHOLD; i++) {
      expect((await login(app, a, 'Wrong-Password-99')).json().code).toBe('LOGIN_FAILED');
    }
    const locking = await login(app, a, 'Wrong-Password-99');
    expect(locking.statusCode).toBe(403);
    expect(locking.json().code).toBe('ACCOUNT_LOCKED');
    expect(locking.json().message).toMatch(/管理者/);
    const right = await login(app, a);
    expect(right.json().code).toBe('ACCOUNT_LOCKED');
    expect(sessionCookieOf(right)).toBeUndefined();
    expect(await stateOf(a)).toMatchObject({ locked: true, failedAttempts: LOCKOUT_THRESHOLD });

    // Only an administrator lifts it.
    const admin = await account(['staffAdmin']);
    const adminSession = await signIn(app, clock, admin);
    const user = await signIn(app, clock, await account(['inquiry']));
    expect((await call(app, user, 'POST', `/api/staff/${a.staffId}/unlock`)).statusCode).toBe(403);
    const unlocked = await call(app, adminSession, 'POST', `/api/staff/${a.staffId}/unlock`);
    expect(unlocked.statusCode, unlocked.body).toBe(200);
    expect(unlocked.json()).toMatchObject({ locked: false, failedAttempts: 0 });
    await signIn(app, clock, a);
  });

  it('locks after wrong codes too, ending the pending session; a right password does not reset the count', async () => {
    const a = await account();
    expect((await login(app, a, 'Wrong-Password-99')).json().code).toBe('LOGIN_FAILED');
    advance(clock, 30_000);
    const first = await login(app, a);
    const pending = sessionCookieOf(first);
    const good = totpCode(a.totpSecret, clock.now());
    const bad = good === '000000' ? '111111' : '000000';
    for (let i = 2; i < LOCKOUT_THRESHOLD; i++) {
      expect((await secondFactor(app, pending, bad)).json().code).toBe('SECOND_FACTOR_FAILED');
    }
    expect((await secondFactor(app, pending, bad)).json().code).toBe('ACCOUNT_LOCKED');
    expect((await secondFactor(app, pending, good)).statusCode).toBe(401);
    expect((await login(app, a)).json().code).toBe('ACCOUNT_LOCKED');
  });

  it('resets the count on a complete sign-in', async () => {
    const a = await account();
    for (let i = 1; i < LOCKOUT_THRESHOLD; i++) await login(app, a, 'Wrong-Password-99');
    await signIn(app, clock, a);
    expect((await stateOf(a)).failedAttempts).toBe(0);
    await login(app, a, 'Wrong-Password-99');
    expect((await stateOf(a)).locked).toBe(false);
  });
});

describe('session lifetime', () => {
  it('ends after the idle timeout; each request restarts it', async () => {
    const signed = await signIn(app, clock, await account());
    for (let i = 0; i < 3; i++) {
      advance(clock, 14 * 60_000);
      expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(200);
    }
    advance(clock, 15 * 60_000);
    const expired = await call(app, signed, 'GET', '/api/probe/inquiry');
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe('SESSION_EXPIRED');
    expect(expired.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('');
    // Ended for good, even if activity came back in time.
    const after = await call(app, signed, 'GET', '/api/probe/inquiry');
    expect(after.json().code).toBe('UNAUTHENTICATED');
  });

  it('records activity at most every 30 seconds, so it may end sooner but never later', async () => {
    const a = await account();
    const signed = await signIn(app, clock, a);
    const lastSeen = async () =>
      (
        await handle.db
          .selectFrom('staff_session')
          .select('last_seen_at')
          .where('staff_id', '=', a.staffId)
          .where('state', '=', 'active')
          .executeTakeFirstOrThrow()
      ).last_seen_at.getTime();
    const start = await lastSeen();
    const ok = async () =>
      expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(200);
    advance(clock, 20_000);
    await ok();
    expect(await lastSeen()).toBe(start);
    advance(clock, SESSION_TOUCH_INTERVAL_MS - 20_000);
    await ok();
    expect(await lastSeen()).toBe(start + SESSION_TOUCH_INTERVAL_MS);
    // Not recorded: the timeout still counts from the activity recorded before it.
    advance(clock, 29_000);
    await ok();
    advance(clock, 15 * 60_000 - 29_000);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).json().code).toBe('SESSION_EXPIRED');
  });

  it('ends at the absolute timeout however active it is', async () => {
    const signed = await signIn(app, clock, await account());
    let minutes = 0;
    for (; minutes + 14 < 8 * 60; minutes += 14) {
      advance(clock, 14 * 60_000);
      expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(200);
    }
    advance(clock, (8 * 60 - minutes) * 60_000);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).json().code).toBe('SESSION_EXPIRED');
  });

  it('ends at sign-out, and the cookie is cleared', async () => {
    const signed = await signIn(app, clock, await account());
    expect((await call(app, signed, 'POST', '/api/auth/logout', { csrf: null })).statusCode).toBe(403);
    const out = await call(app, signed, 'POST', '/api/auth/logout');
    expect(out.statusCode, out.body).toBe(204);
    expect(out.cookies.find((c) => c.name === SESSION_COOKIE)?.value).toBe('');
    expect((await call(app, signed, 'GET', '/api/auth/session')).json().code).toBe('UNAUTHENTICATED');
  });

  it('ends when an administrator ends it', async () => {
    const a = await account();
    const signed = await signIn(app, clock, a);
    const admin = await signIn(app, clock, await account(['staffAdmin']));
    const sessions = await call(app, admin, 'GET', '/api/sessions');
    expect(sessions.statusCode).toBe(200);
    const mine = sessions
      .json<{ staffId: string; sessionId: string }[]>()
      .filter((s) => s.staffId === a.staffId);
    expect(mine).toHaveLength(1);
    const ended = await call(app, admin, 'POST', `/api/sessions/${mine[0]!.sessionId}/end`);
    expect(ended.statusCode, ended.body).toBe(204);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).json().code).toBe('UNAUTHENTICATED');
    expect((await call(app, admin, 'POST', `/api/sessions/${mine[0]!.sessionId}/end`)).statusCode).toBe(404);
  });

  it('ends when the account is disabled, and the account cannot sign in again', async () => {
    const a = await account();
    const signed = await signIn(app, clock, a);
    const admin = await signIn(app, clock, await account(['staffAdmin']));
    const disabled = await call(app, admin, 'POST', `/api/staff/${a.staffId}/disable`);
    expect(disabled.json()).toMatchObject({ disabled: true });
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(401);
    expect((await login(app, a)).json().code).toBe('LOGIN_FAILED');
  });
});

describe('CSRF', () => {
  it('requires the session token on state-changing requests, not on GET', async () => {
    const signed = await signIn(app, clock, await account());
    const missing = await call(app, signed, 'POST', '/api/probe/inquiry', { csrf: null });
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('CSRF_TOKEN_INVALID');
    const wrong = await call(app, signed, 'POST', '/api/probe/inquiry', { csrf: 'x'.repeat(43) });
    expect(wrong.json().code).toBe('CSRF_TOKEN_INVALID');
    const other = await signIn(app, clock, await account());
    expect((await call(app, signed, 'POST', '/api/probe/inquiry', { csrf: other.csrf })).statusCode).toBe(
      403,
    );
    expect((await call(app, signed, 'POST', '/api/probe/inquiry')).statusCode).toBe(200);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry', { csrf: null })).statusCode).toBe(200);
  });
});

describe('deny by default', () => {
  it('answers 401 without a session and 403 without the permission', async () => {
    expect((await call(app, undefined, 'GET', '/api/probe/inquiry')).json().code).toBe('UNAUTHENTICATED');
    expect((await call(app, undefined, 'GET', '/api/probe/inquiry')).statusCode).toBe(401);
    const forged = await call(app, { cookie: 'forged', csrf: 'x' }, 'GET', '/api/probe/inquiry');
    expect(forged.statusCode).toBe(401);
    const auditor = await signIn(app, clock, await account(['logReview']));
    const refused = await call(app, auditor, 'GET', '/api/probe/inquiry');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('FORBIDDEN');
    expect((await call(app, auditor, 'GET', '/api/staff')).statusCode).toBe(403);
  });

  it('refuses a route that declared no permission, to everyone', async () => {
    const everything = await signIn(
      app,
      clock,
      await account(['inquiry', 'staffAdmin', 'batch', 'logReview']),
    );
    for (const signed of [undefined, everything]) {
      const res = await call(app, signed, 'GET', '/api/probe/undeclared');
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    }
  });

  it('lists every route with what it declared', () => {
    const routes = declaredRoutes(app).filter((r) => r.url.startsWith('/api/'));
    expect(routes.filter((r) => r.permission === undefined).map((r) => r.url)).toEqual([
      '/api/probe/undeclared',
      '/api/probe/undeclared', // and its HEAD
    ]);
    const of = (method: string, url: string) =>
      routes.find((r) => r.method === method && r.url === url)?.permission;
    expect(of('POST', '/api/auth/login')).toBe('public');
    expect(of('POST', '/api/auth/second-factor')).toBe('public');
    expect(of('GET', '/api/auth/session')).toBe('authenticated');
    expect(of('POST', '/api/auth/logout')).toBe('authenticated');
    expect(of('GET', '/api/staff')).toBe('staffAdmin');
    expect(of('POST', '/api/sessions/:sessionId/end')).toBe('staffAdmin');
  });

  it('leaves public routes and the UI open, and unknown paths to the 404 handler', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/no-such-route' })).statusCode).toBe(404);
  });
});

describe('the access log', () => {
  const entriesOf = async (staffId: string) =>
    (await searchAccessLog(handle.db, TEST_LG_CODE, { staffId, pageSize: 500 })).entries
      .sort((x, y) => x.seq - y.seq)
      .map((e) => [e.function, e.outcome, e.details?.['reason'] ?? e.details?.['action'] ?? null]);

  it('records each sign-in act of the staff member, and nothing they typed', async () => {
    const a = await account();
    await login(app, a, 'Wrong-Password-99');
    advance(clock, 30_000);
    const first = await login(app, a, undefined, { 'x-terminal-id': 'COUNTER-9' });
    await secondFactor(
      app,
      sessionCookieOf(first),
      '000000' === totpCode(a.totpSecret, clock.now()) ? '111111' : '000000',
    );
    const second = await secondFactor(app, sessionCookieOf(first), totpCode(a.totpSecret, clock.now()));
    const signed = { cookie: sessionCookieOf(second)!, csrf: second.json<{ csrfToken: string }>().csrfToken };
    await call(app, signed, 'POST', '/api/auth/logout');
    const again = await signIn(app, clock, a);
    advance(clock, 16 * 60_000);
    await call(app, again, 'GET', '/api/probe/inquiry');
    expect(await entriesOf(a.staffId)).toEqual([
      ['loginFailed', 'failed', 'password'],
      ['secondFactorFailed', 'failed', 'wrongCode'],
      ['login', 'success', null],
      ['logout', 'success', null],
      ['login', 'success', null],
      ['sessionEnded', 'success', 'idle'],
    ]);
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { staffId: a.staffId, pageSize: 500 });
    const logins = log.entries.filter((e) => e.function === 'login').sort((x, y) => x.seq - y.seq);
    expect(logins.map((e) => e.terminalId)).toEqual(['COUNTER-9', 'unknown']);
    const text = JSON.stringify(log);
    expect(text).not.toContain(a.loginName);
    expect(text).not.toContain('Wrong-Password');
    expect(text).not.toContain(a.totpSecret);
  });

  it('records a failed sign-in under an unknown name without the name', async () => {
    await login(app, { loginName: 'ghost-user' }, 'Whatever-123');
    const failed = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'loginFailed', pageSize: 500 });
    const last = failed.entries.sort((x, y) => y.seq - x.seq)[0]!;
    expect(last).toMatchObject({ staffId: null, outcome: 'failed', details: { reason: 'unknownLoginName' } });
    expect(JSON.stringify(failed)).not.toContain('ghost');
  });

  it("records administrators' acts as theirs", async () => {
    const adminAccount = await account(['staffAdmin']);
    const admin = await signIn(app, clock, adminAccount);
    const a = await account();
    await signIn(app, clock, a);
    await call(app, admin, 'POST', `/api/staff/${a.staffId}/permissions/grant`, {
      payload: { permissions: ['change'] },
    });
    await call(app, admin, 'POST', `/api/staff/${a.staffId}/unlock`);
    const session = (await call(app, admin, 'GET', '/api/sessions'))
      .json<{ staffId: string; sessionId: string }[]>()
      .find((x) => x.staffId === a.staffId)!;
    await call(app, admin, 'POST', `/api/sessions/${session.sessionId}/end`);
    await call(app, admin, 'POST', `/api/staff/${a.staffId}/disable`);
    expect((await entriesOf(adminAccount.staffId)).slice(1)).toEqual([
      ['permissionChange', 'success', null],
      ['staffAdmin', 'success', 'unlock'],
      ['sessionEnded', 'success', 'admin'],
      ['staffAdmin', 'success', 'disable'],
    ]);
  });
});
