/**
 * The counter in a real browser: Debian's Chromium driven by playwright-core against the built staff UI,
 * served by the app on a fresh database with the demo city and demo staff. The clerk signs in with the
 * second factor, searches, opens a person for a purpose, reads the history and signs out; search → open
 * works with Tab and Enter alone; every form field has a label. Screenshots go to test-artifacts/counter/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadOrCreateAuditKey } from '../audit/index.js';
import { loadConfig } from '../config.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ChangeService, ResidentService, ensureMunicipality } from '../registry/index.js';
import { seedDemoData } from '../registry/demo-data.js';
import { systemActor, systemClock } from '../shared/index.js';
import { DEMO_ACCOUNTS, seedDemoStaff, totpCode } from '../staff/index.js';
import { testKeyring } from '../keys/testing.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '../..');
const artifacts = path.join(root, 'test-artifacts', 'counter');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-e2e-'));
const LG_CODE = '999016';
const clerk = DEMO_ACCOUNTS.find((a) => a.loginName === 'clerk')!;
const reviewer = DEMO_ACCOUNTS.find((a) => a.loginName === 'reviewer')!;

/** The few browser globals the page-side functions use (the Node project has no DOM types). */
interface BrowserGlobals {
  localStorage: { length: number };
  sessionStorage: { length: number };
  indexedDB: { databases(): Promise<unknown[]> };
  document: { activeElement: { tagName: string; id: string; textContent: string | null } | null };
}

let handle: DatabaseHandle;
let app: FastifyInstance;
let context: BrowserContext;
let page: Page;
let base: string;
/** A current resident with some history, to search for and open. */
let target: { personNo: string; familyName: string; householdNo: string };

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium ` +
        '(apt-get install -y chromium; .ci/run installs it).',
    );
  }
  fs.mkdirSync(artifacts, { recursive: true });

  // The UI, built once into a folder of this run.
  const webRoot = path.join(work, 'web');
  await build({
    configFile: path.join(root, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: webRoot, emptyOutDir: true },
  });

  // The demo city and staff, as `jumin start` seeds them.
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, LG_CODE, '架空市');
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: LG_CODE });
  const auditKey = loadOrCreateAuditKey(path.join(work, 'audit.pem'), { create: true });
  await seedDemoStaff(handle.db, LG_CODE, systemClock, config, testKeyring(handle.db));
  const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
  const system = systemActor(LG_CODE);
  await seedDemoData(new ChangeService(handle.db, systemClock, audit, testKeyring(handle.db)), system, {
    today: systemClock.today(),
  });
  const residents = new ResidentService(
    handle.db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    testKeyring(handle.db),
  );
  const { hits } = await residents.search(system, { status: 'current', pageSize: 100 });
  for (const hit of hits) {
    if (hit.kind !== 'japanese' || hit.suppressions.length > 0) continue;
    const inquiry = await residents.inquire(system, hit.personNo, { purpose: config.inquiryPurposes[0] });
    if (inquiry.history.length >= 2 && inquiry.current.name) {
      target = {
        personNo: hit.personNo,
        familyName: inquiry.current.name.family,
        householdNo: hit.householdNo,
      };
      break;
    }
  }
  expect(target, 'a demo resident with history').toBeDefined();

  app = await buildApp({ config, db: handle.db, auditKey, keyring: testKeyring(handle.db), webRoot });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;

  context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    locale: 'ja-JP',
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  page = context.pages()[0] ?? (await context.newPage());
}, 180_000);

afterAll(async () => {
  await context?.close();
  await app?.close();
  await handle?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Form fields without a label (a <label>, aria-label or aria-labelledby): their ids or names. */
async function unlabelledFields(): Promise<string[]> {
  return page.$$eval('input, select, textarea', (fields) =>
    fields
      .filter(
        (f) =>
          ((f as unknown as { labels: { length: number } | null }).labels?.length ?? 0) === 0 &&
          !f.getAttribute('aria-label') &&
          !f.getAttribute('aria-labelledby'),
      )
      .map((f) => f.id || f.getAttribute('name') || f.outerHTML),
  );
}

/** What the browser keeps: no personal data in any storage the terminal would retain. */
async function browserStorage(): Promise<{ local: number; session: number; idb: number }> {
  return page.evaluate(async () => {
    const w = globalThis as unknown as BrowserGlobals;
    return {
      local: w.localStorage.length,
      session: w.sessionStorage.length,
      idb: (await w.indexedDB.databases()).length,
    };
  });
}

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
    await page.getByLabel('確認コード').fill(totpCode(clerk.totpSecret, new Date()));
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

    await row.click();
    await page.getByRole('heading', { name: '住民照会' }).waitFor();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('05-inquiry-purpose');
    await page.getByLabel('照会目的').selectOption({ index: 1 });
    await page.getByRole('button', { name: '照会する' }).click();
    await page.getByRole('heading', { name: /^履歴/ }).waitFor();
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
    await page.getByLabel('確認コード').fill(totpCode(reviewer.totpSecret, new Date()));
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
    await context.clearCookies();
    await page.getByRole('button', { name: '← 検索に戻る' }).click();
    await page.getByRole('button', { name: '検索', exact: true }).click();
    await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('もう一度ログインしてください');
    expect(await page.locator('body').textContent()).not.toContain(target.personNo);
    await screenshot('11-session-lost');
  }, 60_000);
});
