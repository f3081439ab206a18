/**
 * The counter in a real browser: Debian's Chromium driven by playwright-core against the built staff UI,
 * served by the app on a fresh database with the demo city and demo staff. The clerk signs in with the
 * second factor, searches, opens a person for a purpose, reads the history and signs out; search → open
 * works with Tab and Enter alone; every form field has a label. Screenshots go to test-artifacts/counter/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, startE2e, type BrowserGlobals, type E2e } from './harness.js';

const clerk = account('clerk');
const reviewer = account('reviewer');

let e2e: E2e;
let page: Page;
let base: string;
/** A current resident with some history, to search for and open. */
let target: { personNo: string; familyName: string; reading: string; householdNo: string };

beforeAll(async () => {
  e2e = await startE2e({ name: 'counter' });
  ({ page, base } = e2e);
  const { residents, system, config } = e2e;
  const { hits } = await residents.search(system, { status: 'current', pageSize: 100 });
  for (const hit of hits) {
    if (hit.kind !== 'japanese' || hit.suppressions.length > 0) continue;
    const inquiry = await residents.inquire(system, hit.personNo, { purpose: config.inquiryPurposes[0] });
    if (inquiry.history.length >= 2 && inquiry.current.name) {
      target = {
        personNo: hit.personNo,
        familyName: inquiry.current.name.family,
        reading: `${inquiry.current.reading.family}${inquiry.current.reading.given}`,
        householdNo: hit.householdNo,
      };
      break;
    }
  }
  expect(target, 'a demo resident with history').toBeDefined();
}, 180_000);

afterAll(async () => {
  await e2e?.close();
});

const screenshot = (name: string) => e2e.screenshot(name);
const unlabelledFields = () => e2e.unlabelledFields();
const browserStorage = () => e2e.browserStorage();

describe('the counter in Chromium', () => {
  it('signs in with the second factor, searches, opens a person for a purpose, signs out', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('01-login');

    // A wrong password is refused in Japanese, from the API's message.
    await page.getByLabel('ログイン名').fill(clerk.loginName);
    await page.getByLabel('パスワード').fill('wrong-password-123');
    await page.getByLabel('パスワード').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/[ぁ-んァ-ン一-龯]/);
    await screenshot('02-login-refused');

    await page.getByLabel('パスワード').fill(clerk.password);
    await page.getByLabel('パスワード').press('Enter');
    await page.getByLabel('確認コード').waitFor();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('03-second-factor');
    await page.getByLabel('確認コード').fill(await e2e.freshCode(clerk));
    await page.getByLabel('確認コード').press('Enter');

    await page.getByRole('heading', { name: '住民検索' }).waitFor();
    expect(await unlabelledFields()).toEqual([]);
    // The clerk may not see 個人番号: the criterion is not offered.
    expect(await page.getByLabel('個人番号').count()).toBe(0);
    await page.getByLabel('氏名（かな・漢字・英字）').fill(target.familyName);
    await page.getByLabel('氏名（かな・漢字・英字）').press('Enter');
    const row = page.locator('tbody tr', { hasText: target.personNo });
    await row.waitFor();
    await screenshot('04-search-results');
    // The reading without its first character: not its start (前方一致, the default), but part of it (部分一致).
    const name = page.getByLabel('氏名（かな・漢字・英字）');
    await name.fill([...target.reading].slice(1).join(''));
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/residents?')),
      name.press('Enter'),
    ]);
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('氏名・住所の一致方法').selectOption('contains');
    await name.press('Enter');
    await row.waitFor();
    await page.getByLabel('氏名・住所の一致方法').selectOption('prefix');
    await name.fill(target.familyName);
    await name.press('Enter');
    await row.waitFor();

    await row.click();
    await page.getByRole('heading', { name: '住民照会' }).waitFor();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('05-inquiry-purpose');
    await page.getByLabel('照会目的').selectOption({ index: 1 });
    await page.getByRole('button', { name: '照会する' }).click();
    await page.getByRole('heading', { name: /^履歴/ }).waitFor();
    // The household is loaded after the record: wait for it.
    await page.getByRole('heading', { name: /^世帯（世帯番号/ }).waitFor();
    const content = (await page.locator('main').textContent()) ?? '';
    expect(content).toContain(target.personNo);
    expect(content).toContain(`世帯番号 ${target.householdNo}`);
    // Hidden items read 非表示, with no reveal action for a clerk without the permission.
    expect(content).toContain('非表示');
    expect(await page.getByRole('button', { name: /を表示$/ }).count()).toBe(0);
    expect(await page.locator('ol.timeline li').count()).toBeGreaterThanOrEqual(2);
    await screenshot('06-inquiry');
    expect(await browserStorage()).toEqual({ local: 0, session: 0, idb: 0 });

    await page.getByRole('button', { name: '← 検索に戻る' }).click();
    // Search state is kept in memory while signed in.
    await page.locator('tbody tr', { hasText: target.personNo }).waitFor();
  }, 120_000);

  it('searches and opens a person with the keyboard alone (Tab and Enter)', async () => {
    const name = page.getByLabel('氏名（かな・漢字・英字）');
    await name.focus();
    await page.keyboard.press('Enter');
    await page.locator('tbody tr', { hasText: target.personNo }).waitFor();
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate((no) => {
        const active = (globalThis as unknown as BrowserGlobals).document.activeElement;
        return active?.tagName === 'TR' && !!active.textContent?.includes(no);
      }, target.personNo);
    }
    expect(reached, 'the result row takes the focus by Tab').toBe(true);
    await screenshot('07-keyboard-row-focused');
    await page.keyboard.press('Enter');
    // The purpose list has the focus: choose with the keyboard, then Tab to the button and Enter.
    await page.getByLabel('照会目的').waitFor();
    await expect
      .poll(() => page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.id))
      .toBe('inquiry-purpose');
    await expect.poll(() => page.locator('#inquiry-purpose option').count()).toBeGreaterThan(1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^履歴/ }).waitFor();
    await screenshot('08-keyboard-inquiry');
  }, 60_000);

  it('signs out and clears the screen', async () => {
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    expect(await page.locator('main').textContent()).toContain('ログアウトしました');
    expect(await page.locator('body').textContent()).not.toContain(target.personNo);
    await screenshot('09-logged-out');
    // The session is gone on the server too.
    const res = await fetch(`${base}/api/auth/session`);
    expect(res.status).toBe(401);
  }, 30_000);

  it('reveals a hidden item for a permitted reviewer, and returns to sign-in when the session is lost', async () => {
    await page.getByLabel('ログイン名').fill(reviewer.loginName);
    await page.getByLabel('パスワード').fill(reviewer.password);
    await page.getByLabel('パスワード').press('Enter');
    await page.getByLabel('確認コード').fill(await e2e.freshCode(reviewer));
    await page.getByLabel('確認コード').press('Enter');
    await page.getByLabel('宛名番号').fill(target.personNo);
    await page.getByLabel('宛名番号').press('Enter');
    await page.locator('tbody tr', { hasText: target.personNo }).press('Enter');
    await page.getByLabel('照会目的').selectOption({ index: 1 });
    await page.getByRole('button', { name: '照会する' }).click();
    const reveal = page.getByRole('button', { name: '個人番号を表示' });
    await reveal.waitFor();
    await reveal.click();
    await expect.poll(() => reveal.count()).toBe(0);
    const myNumberRow = page
      .locator('dl.record dt', { hasText: /^個人番号$/ })
      .locator('xpath=following-sibling::dd[1]');
    expect(await myNumberRow.textContent()).toMatch(/^\d{12}$|（記載なし）/);
    await screenshot('10-reviewer-revealed');

    // The session ends behind the screen's back (timeout): the next call clears it and asks to sign in.
    await e2e.context.clearCookies();
    await page.getByRole('button', { name: '← 検索に戻る' }).click();
    await page.getByRole('button', { name: '検索', exact: true }).click();
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('もう一度ログインしてください');
    expect(await page.locator('body').textContent()).not.toContain(target.personNo);
    await screenshot('11-session-lost');
  }, 60_000);

  it('breaks no rule of the Content-Security-Policy', () => {
    expect(e2e.cspViolations).toEqual([]);
  });
});
