/**
 * The auditor's and the administrator's screens in a real browser (Debian's Chromium via playwright-core,
 * the built UI, a fresh database with the demo city and staff). A clerk opens the record of a person under
 * a support measure; the auditor sees the resulting alert (rule label in Japanese), acknowledges it, finds
 * the clerk's inquiry in the access-log search and checks the log verification; the administrator unlocks
 * an account locked by failed passwords. Screenshots go to test-artifacts/audit/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertSupportMeasure } from '../protection/index.js';
import { account, LG_CODE, startE2e, type E2e } from './harness.js';

const clerk = account('clerk');
const auditor = account('auditor');
const admin = account('admin');
/** The account the test locks by failing its password, for the administrator to unlock. */
const lockedOut = account('reviewer');

let e2e: E2e;
let page: Page;
let base: string;
/** The demo resident placed under a support measure. */
let protectedPerson: string;
/** A resident with some history, whose inquiry screen is the README's screenshot. */
let showcase: string | undefined;
let clerkStaffId: string;
let lockoutThreshold: number;

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

beforeAll(async () => {
  e2e = await startE2e({ name: 'audit', timeoutMs: 15_000 });
  ({ page, base } = e2e);
  const { residents, system, config, db } = e2e;
  lockoutThreshold = config.auth.lockoutThreshold;
  const today = e2e.audit.clock.today();
  const { hits } = await residents.search(system, { status: 'current', pageSize: 100 });
  const hit = hits.find((h) => h.kind === 'japanese' && h.suppressions.length === 0);
  expect(hit, 'a demo resident without suppressions').toBeDefined();
  protectedPerson = hit!.personNo;
  for (const h of hits) {
    if (h.personNo === protectedPerson || h.kind !== 'japanese' || h.suppressions.length > 0) continue;
    const inquiry = await residents.inquire(system, h.personNo, { purpose: config.inquiryPurposes[0] });
    if (inquiry.history.length >= 2) {
      showcase = h.personNo;
      break;
    }
  }
  await insertSupportMeasure(db, {
    lgCode: LG_CODE,
    personNo: protectedPerson,
    status: 'active',
    startsOn: addDays(today, -1),
    endsOn: addDays(today, 365),
    createdBy: 'system',
  });
  const clerkRow = await db
    .selectFrom('staff')
    .select('staff_id')
    .where('lg_code', '=', LG_CODE)
    .where('login_name', '=', clerk.loginName)
    .executeTakeFirstOrThrow();
  clerkStaffId = clerkRow.staff_id;
}, 180_000);

afterAll(async () => {
  await e2e?.close();
});

const screenshot = (name: string, fullPage = true) => e2e.screenshot(name, fullPage);
const unlabelledFields = () => e2e.unlabelledFields();
const browserStorage = () => e2e.browserStorage();
const signIn = (a: typeof clerk) => e2e.signIn(a);
const signOut = () => e2e.signOut();

describe('the auditor and the administrator in Chromium', () => {
  it('a clerk opens the record of a support-measure subject', async () => {
    await signIn(clerk);
    await page.getByLabel('宛名番号').fill(protectedPerson);
    await page.getByLabel('宛名番号').press('Enter');
    await page.locator('tbody tr', { hasText: protectedPerson }).click();
    await page.getByLabel('照会目的').selectOption({ index: 1 });
    await page.getByRole('button', { name: '照会する' }).click();
    await page.getByRole('heading', { name: /^履歴/ }).waitFor();
    await screenshot('01-clerk-inquiry', false);

    // The inquiry screen of a resident with history: the README's screenshot (docs/inquiry.png).
    if (showcase) {
      await page.getByRole('button', { name: '← 検索に戻る' }).click();
      await page.getByLabel('宛名番号').fill(showcase);
      await page.getByLabel('宛名番号').press('Enter');
      await page.locator('tbody tr', { hasText: showcase }).click();
      await page.getByLabel('照会目的').selectOption({ index: 1 });
      await page.getByRole('button', { name: '照会する' }).click();
      await page.getByRole('heading', { name: /^履歴/ }).waitFor();
      await screenshot('00-inquiry');
    }
    await signOut();
  }, 30_000);

  it('the auditor sees the alert in Japanese and acknowledges it', async () => {
    await signIn(auditor);
    await page
      .getByRole('navigation', { name: '業務メニュー' })
      .getByRole('button', { name: '監査' })
      .click();
    await page.getByRole('heading', { name: '監査', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'アラート', exact: true }).click();
    const rule = '支援措置対象者の記録の参照';
    const alerts = page.locator('table.alert-table tbody tr', { hasText: rule });
    await alerts.first().waitFor();
    // Finding and opening the record (the search, the record, its household) is one lookup: one alert,
    // naming the clerk.
    const open = await alerts.count();
    expect(open).toBe(1);
    for (const text of await alerts.allTextContents()) expect(text).toContain(clerkStaffId);
    // Operators are shown by name with their id: 「氏名（ID）」.
    await expect
      .poll(() => alerts.first().textContent())
      .toContain(`${clerk.displayName}（${clerkStaffId}）`);
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('02-alerts');

    const alertId = ((await alerts.first().locator('td').first().textContent()) ?? '').trim();
    const row = page.locator('table.alert-table tbody tr').filter({
      has: page.locator('td:first-child', { hasText: new RegExp(`^${alertId}$`) }),
    });
    await row.getByRole('button', { name: `アラート ${alertId} を確認する` }).click();
    await row.getByLabel(/確認メモ/).fill('窓口での正当な照会であることを確認した。');
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('03-acknowledging');
    await row.getByRole('button', { name: '確認済みにする' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain(`アラート ${alertId}（${rule}）を確認済みにしました`);
    // The open-only list no longer shows it; the acknowledged list does, with the note.
    await expect.poll(() => alerts.count()).toBe(open - 1);
    await page.getByLabel('確認状況').selectOption('true');
    await expect.poll(() => row.textContent()).toContain('確認済み');
    expect(await row.textContent()).toContain('窓口での正当な照会であることを確認した。');
    await screenshot('04-alert-acknowledged');
  }, 30_000);

  it('the auditor finds the clerk’s inquiry in the access log and checks the verification', async () => {
    await page.getByRole('button', { name: 'アクセスログ', exact: true }).click();
    await page.getByLabel('対象者（宛名番号）').fill(protectedPerson);
    await page.getByLabel('機能').selectOption('inquiry');
    await page.getByLabel('対象者（宛名番号）').press('Enter');
    const row = page.locator('table.log-table tbody tr', { hasText: clerkStaffId }).first();
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain(`${clerk.displayName}（${clerkStaffId}）`);
    expect(text).toContain('照会');
    expect(text).toContain('成功');
    expect(text).toContain(protectedPerson);
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('05-access-log');

    await page.getByRole('button', { name: 'ログ検証', exact: true }).click();
    await page.getByText('正常: ログの改ざんは検出されませんでした。').waitFor();
    await page.getByRole('button', { name: 'チェックポイントを作成（封印）' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toMatch(/チェックポイント [\d、]+ を作成しました/);
    await screenshot('06-verification');
    expect(await browserStorage()).toEqual({ local: 0, session: 0, idb: 0 });
    await signOut();
  }, 30_000);

  it('the administrator unlocks an account locked by failed passwords', async () => {
    for (let i = 0; i < lockoutThreshold; i++) {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ loginName: lockedOut.loginName, password: 'wrong-password-123' }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    // This browser is not a registered terminal yet: the sign-in screen says so.
    await page.goto(`${base}/`);
    await expect
      .poll(() => page.getByTestId('login-terminal').textContent())
      .toContain('この端末は登録されていません（端末ID: unknown）');
    await signIn(admin);
    await page
      .getByRole('navigation', { name: '業務メニュー' })
      .getByRole('button', { name: '職員管理' })
      .click();
    const row = page.locator('table.staff-table tbody tr', { hasText: lockedOut.displayName });
    await row.waitFor();
    expect(await row.textContent()).toContain('ロック中');
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('07-staff-locked');
    await row.getByRole('button', { name: /のロックを解除$/ }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('ロックを解除しました');
    // The list reloads after the message: wait for the row to show the new state.
    await expect.poll(() => row.textContent()).not.toContain('ロック中');
    await screenshot('08-staff-unlocked');

    // A new account: its TOTP secret is shown once; then a permission is granted and one revoked.
    await page.getByRole('button', { name: '職員を登録' }).click();
    await page.getByLabel('ログイン名').fill('clerk2');
    await page.getByLabel('表示名').fill('窓口　五郎');
    await page.getByLabel(/^氏/).fill('窓口');
    await page.getByLabel('初期パスワード').fill('Kakuu-Madoguchi-Go-2026');
    await page.getByLabel('照会・検索').check();
    await page.getByLabel('異動入力').check();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('09-new-staff');
    await page.getByRole('button', { name: '登録する' }).click();
    await page.getByText('TOTP 秘密鍵').waitFor();
    expect(await page.locator('main').textContent()).toContain('otpauth://');
    await screenshot('10-new-staff-secret');
    expect(await browserStorage()).toEqual({ local: 0, session: 0, idb: 0 });
    await page.getByRole('button', { name: '登録を終えて閉じる' }).click();
    expect(await page.locator('main').textContent()).not.toContain('otpauth://');
    const added = page.locator('table.staff-table tbody tr', { hasText: 'clerk2' });
    await added.getByRole('button', { name: 'clerk2 の権限を変更' }).click();
    const form = page.getByRole('form', { name: 'clerk2 の権限' });
    await form.getByLabel('証明書発行').check();
    await form.getByLabel('異動入力').uncheck();
    await form.getByRole('button', { name: '権限を保存' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('権限を変更しました');
    // The list reloads after the message: wait for the row to show the change.
    await expect.poll(() => added.textContent()).toContain('証明書発行');
    const perms = (await added.textContent()) ?? '';
    expect(perms).toContain('証明書発行');
    expect(perms).not.toContain('異動入力');
    await screenshot('11-permissions-changed');

    // The administrator registers this browser as a terminal.
    expect(await page.getByTestId('this-terminal').textContent()).toContain('登録されていません');
    await page.getByLabel('端末ID（半角英数字・_・-）').fill('MADO-E2E');
    await page.getByLabel('端末名（設置場所など）').fill('本庁舎1階 窓口E2E');
    expect(await unlabelledFields()).toEqual([]);
    await page.getByRole('button', { name: 'このブラウザを端末として登録' }).click();
    await expect
      .poll(() => page.getByTestId('this-terminal').textContent())
      .toContain('端末 MADO-E2E（本庁舎1階 窓口E2E）');
    await page.locator('table.terminal-table tbody tr', { hasText: 'MADO-E2E' }).waitFor();
    await screenshot('12-terminal-registered');
    expect(await browserStorage()).toEqual({ local: 0, session: 0, idb: 0 });

    // The account signs in again, at the registered terminal: the sign-in screen and the log name it.
    await signOut();
    await expect
      .poll(() => page.getByTestId('login-terminal').textContent())
      .toBe('端末: 本庁舎1階 窓口E2E（MADO-E2E）');
    await screenshot('13-login-at-terminal');
    await signIn(lockedOut);
    const login = await e2e.db
      .selectFrom('access_log')
      .innerJoin('staff', (j) => j.onRef('staff.staff_id', '=', 'access_log.staff_id'))
      .select(['access_log.terminal_id', 'access_log.seq'])
      .where('staff.login_name', '=', lockedOut.loginName)
      .where('access_log.function', '=', 'login')
      .orderBy('access_log.seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(login.terminal_id).toBe('MADO-E2E');
    await signOut();
  }, 60_000);

  it('breaks no rule of the Content-Security-Policy', () => {
    expect(e2e.cspViolations).toEqual([]);
  });
});
