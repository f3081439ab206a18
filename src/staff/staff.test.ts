/**
 * Staff administration on a real database: the password policy, accounts and grants through the API,
 * one municipality's administrator against another's staff, the demo accounts and the CLI.
 */
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type Config } from '../config.js';
import { migrateToLatest, type DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { DomainError, systemActor, type FixedClock } from '../shared/index.js';
import { totpCode } from './credentials.js';
import { DEMO_ACCOUNTS, seedDemoStaff } from './demo-staff.js';
import { registerStaffCommands } from './staff.cli.js';
import { checkPasswordPolicy } from './staff.js';
import { StaffService } from './staff.service.js';
import {
  addMunicipalities,
  buildTestApp,
  call,
  createAccount,
  login,
  OTHER_LG_CODE,
  secondFactor,
  sessionCookieOf,
  signIn,
  testClock,
  testConfig,
  TEST_LG_CODE,
  type Signed,
  type TestAccount,
} from './testing.js';
import { testKeyring } from '../keys/testing.js';

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

function refusalOf(work: () => void): string | undefined {
  try {
    work();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).message).toMatch(/[ぁ-んァ-ン一-龥]/);
    return (e as DomainError).code;
  }
}

describe('password policy', () => {
  it.each([
    ['Short-1a', 'PASSWORD_TOO_SHORT'],
    ['alllowercase12', 'PASSWORD_TOO_SIMPLE'],
    ['ALLUPPER-CASE', 'PASSWORD_TOO_SIMPLE'],
    ['Tanaka-Secret-9', 'PASSWORD_CONTAINS_LOGIN_NAME'],
    ['Password1234', 'PASSWORD_TOO_COMMON'],
    ['P@ssw0rd1234', 'PASSWORD_TOO_COMMON'],
    ['aaaaaaaaaaaaaaaaaaaa', 'PASSWORD_TOO_COMMON'],
    ['Correct-Horse-42', undefined],
    ['correct horse battery staple', undefined], // a long passphrase needs no classes
    ['東京都の秋は紅葉がきれいで好きです', undefined],
  ])('%s → %s', (password, code) => {
    expect(refusalOf(() => checkPasswordPolicy(password, 'tanaka'))).toBe(code);
  });

  it('never repeats the password in the refusal', () => {
    try {
      checkPasswordPolicy('Tanaka-Secret-9', 'tanaka');
    } catch (e) {
      expect(JSON.stringify({ m: (e as DomainError).message, d: (e as DomainError).details })).not.toMatch(
        /Secret|tanaka/i,
      );
    }
  });
});

describe('administration through the API', () => {
  let admin: Signed;
  let adminAccount: TestAccount;

  beforeAll(async () => {
    adminAccount = await createAccount(handle.db, config, clock, ['staffAdmin']);
    admin = await signIn(app, clock, adminAccount);
  });

  it('creates an account, showing its TOTP secret once, and the account signs in with it', async () => {
    const created = await call(app, admin, 'POST', '/api/staff', {
      payload: {
        loginName: 'Sato.Clerk',
        displayName: '佐藤　花子',
        familyName: '佐藤',
        password: 'Madoguchi-Desk-7',
        permissions: ['inquiry', 'certificate'],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json();
    expect(body.staff).toMatchObject({
      loginName: 'sato.clerk',
      lgCode: TEST_LG_CODE,
      permissions: ['certificate', 'inquiry'],
      locked: false,
      disabled: false,
      createdBy: adminAccount.staffId,
    });
    expect(body.staff.staffId).toMatch(/^stf_[a-z2-7]{26}$/);
    expect(body.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauthUrl).toMatch(/^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/);

    // Listing and reading never show a secret.
    const list = await call(app, admin, 'GET', '/api/staff');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(body.totpSecret);
    expect(list.body).not.toMatch(/argon2|password/i);
    expect(list.json().map((s: { loginName: string }) => s.loginName)).toContain('sato.clerk');

    // The name is matched case-insensitively.
    const first = await login(app, { loginName: 'SATO.CLERK' }, 'Madoguchi-Desk-7');
    expect(first.statusCode).toBe(200);
    const second = await secondFactor(app, sessionCookieOf(first), totpCode(body.totpSecret, clock.now()));
    expect(second.statusCode).toBe(200);
    expect(second.json().permissions).toEqual(['certificate', 'inquiry']);
  });

  it('refuses a weak password, a taken login name and bad input', async () => {
    const weak = await call(app, admin, 'POST', '/api/staff', {
      payload: { loginName: 'weak', displayName: '弱', familyName: '弱', password: 'short' },
    });
    expect(weak.statusCode).toBe(422);
    expect(weak.json().code).toBe('PASSWORD_TOO_SHORT');
    const taken = await call(app, admin, 'POST', '/api/staff', {
      payload: {
        loginName: adminAccount.loginName,
        displayName: '重複',
        familyName: '重複',
        password: 'Correct-Horse-42',
      },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('LOGIN_NAME_TAKEN');
    const bad = await call(app, admin, 'POST', '/api/staff', {
      payload: {
        loginName: 'x',
        displayName: '',
        familyName: '',
        password: 'Correct-Horse-42',
        permissions: ['god'],
      },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('grants and revokes permissions; the change applies to the next request', async () => {
    const a = await createAccount(handle.db, config, clock, []);
    const signed = await signIn(app, clock, a);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(403);
    const granted = await call(app, admin, 'POST', `/api/staff/${a.staffId}/permissions/grant`, {
      payload: { permissions: ['inquiry', 'myNumberView'] },
    });
    expect(granted.json().permissions).toEqual(['inquiry', 'myNumberView']);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(200);
    const revoked = await call(app, admin, 'POST', `/api/staff/${a.staffId}/permissions/revoke`, {
      payload: { permissions: ['inquiry'] },
    });
    expect(revoked.json().permissions).toEqual(['myNumberView']);
    expect((await call(app, signed, 'GET', '/api/probe/inquiry')).statusCode).toBe(403);
  });

  it('does not let an administrator remove their own administration or disable themselves', async () => {
    const revoke = await call(app, admin, 'POST', `/api/staff/${adminAccount.staffId}/permissions/revoke`, {
      payload: { permissions: ['staffAdmin'] },
    });
    expect(revoke.json().code).toBe('NOT_ALLOWED_ON_SELF');
    const disable = await call(app, admin, 'POST', `/api/staff/${adminAccount.staffId}/disable`);
    expect(disable.json().code).toBe('NOT_ALLOWED_ON_SELF');
  });

  it("keeps another municipality's administrator out of this one's staff and sessions", async () => {
    const ours = await createAccount(handle.db, config, clock, ['inquiry']);
    const oursSigned = await signIn(app, clock, ours);
    const theirAdmin = await createAccount(handle.db, config, clock, ['staffAdmin'], {
      lgCode: OTHER_LG_CODE,
    });
    const them = await signIn(app, clock, theirAdmin);
    expect((await call(app, them, 'GET', '/api/probe/whoami')).json().lgCode).toBe(OTHER_LG_CODE);

    const list = await call(app, them, 'GET', '/api/staff');
    expect(list.json().map((s: { staffId: string }) => s.staffId)).toEqual([theirAdmin.staffId]);
    expect((await call(app, them, 'GET', '/api/sessions')).body).not.toContain(ours.staffId);
    for (const [method, url, payload] of [
      ['GET', `/api/staff/${ours.staffId}`, undefined],
      ['POST', `/api/staff/${ours.staffId}/unlock`, undefined],
      ['POST', `/api/staff/${ours.staffId}/disable`, undefined],
      ['POST', `/api/staff/${ours.staffId}/permissions/grant`, { permissions: ['staffAdmin'] }],
      ['POST', `/api/staff/${ours.staffId}/permissions/revoke`, { permissions: ['inquiry'] }],
    ] as const) {
      const res = await call(app, them, method, url, payload ? { payload } : {});
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code).toBe('STAFF_NOT_FOUND');
    }
    const ourSessions = (await call(app, admin, 'GET', '/api/sessions')).json<
      { staffId: string; sessionId: string }[]
    >();
    const target = ourSessions.find((s) => s.staffId === ours.staffId)!;
    expect((await call(app, them, 'POST', `/api/sessions/${target.sessionId}/end`)).statusCode).toBe(404);

    // Nothing changed here.
    expect((await call(app, oursSigned, 'GET', '/api/probe/inquiry')).statusCode).toBe(200);
    expect((await call(app, admin, 'GET', `/api/staff/${ours.staffId}`)).json()).toMatchObject({
      permissions: ['inquiry'],
      disabled: false,
    });
    // And their staff member cannot sign in to this municipality.
    expect((await login(app, { loginName: theirAdmin.loginName })).json().code).toBe('LOGIN_FAILED');
  });

  it('gives auditors the names behind staff ids, of their own municipality only', async () => {
    const auditor = await createAccount(handle.db, config, clock, ['logReview']);
    const theirs = await createAccount(handle.db, config, clock, ['logReview'], { lgCode: OTHER_LG_CODE });
    const res = await call(app, await signIn(app, clock, auditor), 'GET', '/api/staff-names');
    expect(res.statusCode, res.body).toBe(200);
    const names = res.json<Array<Record<string, string>>>();
    expect(names).toContainEqual({
      staffId: auditor.staffId,
      displayName: expect.stringMatching(/^職員\d+$/),
      loginName: auditor.loginName,
    });
    expect(names.map((n) => n.staffId)).not.toContain(theirs.staffId);
    // Names only: no permissions, states or addresses.
    expect(Object.keys(names[0]!).sort()).toEqual(['displayName', 'loginName', 'staffId']);
    const clerk = await signIn(app, clock, await createAccount(handle.db, config, clock, ['inquiry']));
    expect((await call(app, clerk, 'GET', '/api/staff-names')).statusCode).toBe(403);
  });

  it('checks staffAdmin in the service too, not only in the route', async () => {
    const s = new StaffService(handle.db, config, clock, testKeyring(handle.db));
    const clerk = {
      lgCode: TEST_LG_CODE,
      staffId: 'x',
      terminalId: 't',
      permissions: new Set(['inquiry'] as const),
    };
    await expect(s.list(clerk)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('demo accounts', () => {
  it('are created once, with their documented permissions, and sign in with the documented credentials', async () => {
    const first = await seedDemoStaff(handle.db, TEST_LG_CODE, clock, config, testKeyring(handle.db));
    expect(first.created).toEqual(DEMO_ACCOUNTS.map((a) => a.loginName));
    const again = await seedDemoStaff(handle.db, TEST_LG_CODE, clock, config, testKeyring(handle.db));
    expect(again).toEqual({ created: [], existing: first.created });

    const list = await new StaffService(handle.db, config, clock, testKeyring(handle.db)).list(
      systemActor(TEST_LG_CODE),
    );
    for (const demo of DEMO_ACCOUNTS) {
      expect(list.find((s) => s.loginName === demo.loginName)?.permissions).toEqual(
        [...demo.permissions].sort(),
      );
      clock.set(new Date(clock.now().getTime() + 30_000).toISOString());
      const res = await login(app, { loginName: demo.loginName }, demo.password);
      expect(res.statusCode, demo.loginName).toBe(200);
      const second = await secondFactor(app, sessionCookieOf(res), totpCode(demo.totpSecret, clock.now()));
      expect(second.statusCode, demo.loginName).toBe(200);
    }
  });

  it('are refused in production', async () => {
    const production = { ...config, env: 'production' } as Config;
    await expect(
      seedDemoStaff(handle.db, TEST_LG_CODE, clock, production, testKeyring(handle.db)),
    ).rejects.toMatchObject({
      code: 'DEMO_REFUSED_IN_PRODUCTION',
    });
  });
});

describe('the staff command', () => {
  function program(env: Record<string, string>) {
    const p = new Command('jumin').exitOverride();
    registerStaffCommands(p, {
      loadConfig: () => loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: TEST_LG_CODE, ...env }),
      // The test's database, kept open after the command.
      openDatabase: () =>
        Promise.resolve({ db: handle.db, kind: handle.kind, close: () => Promise.resolve() }),
      migrateToLatest,
      openKeyring: (db) => Promise.resolve(testKeyring(db)),
    });
    return p;
  }

  async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      await program(env).parseAsync(['node', 'jumin', 'staff', ...args]);
    } finally {
      log.mockRestore();
    }
    return lines.join('\n');
  }

  it('creates the first administrator, printing the TOTP secret, and prints demo codes outside production', async () => {
    vi.stubEnv('JUMIN_NEW_PASSWORD', 'First-Admin-2026');
    try {
      const out = await run([
        'create',
        '--login',
        'chief',
        '--name',
        '管理者',
        '--family-name',
        '管理',
        '--admin',
      ]);
      expect(out).toMatch(/permissions: staffAdmin/);
      const secret = /TOTP secret: ([A-Z2-7]+)/.exec(out)![1]!;
      expect(out).toMatch(/otpauth:\/\/totp\//);

      // Codes are printed for the documented demo accounts only, without opening the database.
      const clerk = DEMO_ACCOUNTS.find((a) => a.loginName === 'clerk')!;
      const code = await run(['otp', '--login', 'clerk']);
      expect([
        totpCode(clerk.totpSecret, new Date(Date.now() - 30_000)),
        totpCode(clerk.totpSecret, new Date()),
      ]).toContain(code.trim());
      await expect(run(['otp', '--login', 'chief'])).rejects.toThrow(/demo accounts only/);

      // The printed secret is the one that signs in.
      clock.set(new Date().toISOString());
      const first = await login(app, { loginName: 'chief' }, 'First-Admin-2026');
      const second = await secondFactor(app, sessionCookieOf(first), totpCode(secret, clock.now()));
      expect(second.json().permissions).toEqual(['staffAdmin']);

      await expect(
        run(['otp', '--login', 'clerk'], {
          NODE_ENV: 'production',
          DATABASE_URL: 'postgres://x@y/z',
          JUMIN_AUDIT_KEY_FILE: '/k',
          JUMIN_MASTER_KEY_FILE: '/d',
          JUMIN_BACKUP_OFFSITE_DIR: '/o',
        }),
      ).rejects.toThrow(/refused/);
      vi.stubEnv('JUMIN_NEW_PASSWORD', 'short');
      await expect(
        run(['create', '--login', 'weak', '--name', '弱', '--family-name', '弱']),
      ).rejects.toMatchObject({
        code: 'PASSWORD_TOO_SHORT',
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
