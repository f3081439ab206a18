/**
 * Certificates and support measures in a real browser (Debian's Chromium via playwright-core, the built
 * staff UI, a fresh database with the demo city and staff). The clerk previews and issues a 住民票の写し for
 * a demo household to a member, reads the PDF (pdftotext) and voids it; the officer receives a support
 * measure for another resident and sets an alert-level certificate suppression on the first household, both
 * through the UI; the clerk's third-party request for the supported resident is then refused in Japanese,
 * and an issue for the suppressed household asks for confirmation first. Screenshots go to
 * test-artifacts/certificates/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flat, pdfText } from '../certificates/testing.js';
import { account, startE2e, type BrowserGlobals, type E2e } from './harness.js';

const clerk = account('clerk');
const officer = account('officer');

let e2e: E2e;
let page: Page;
/** A household head (the requester) and their household, for the 住民票の写し. */
let household: { headNo: string; familyName: string; householdNo: string; members: number };
/** A resident of another household, who applies for a support measure. */
let victim: { personNo: string; householdNo: string };

beforeAll(async () => {
  e2e = await startE2e({ name: 'certificates' });
  ({ page } = e2e);
  const { residents, system, config } = e2e;
  const { hits } = await residents.search(system, { status: 'current', pageSize: 100 });
  const plain = hits.filter((h) => h.kind === 'japanese' && h.suppressions.length === 0);
  const sizes = new Map<string, number>();
  for (const h of hits) sizes.set(h.householdNo, (sizes.get(h.householdNo) ?? 0) + 1);
  const head = plain.find(
    (h) =>
      h.relationship === '世帯主' &&
      (sizes.get(h.householdNo) ?? 0) >= 2 &&
      hits.filter((m) => m.householdNo === h.householdNo).every((m) => m.suppressions.length === 0),
  );
  expect(head, 'a demo household of two or more').toBeDefined();
  const inquiry = await residents.inquire(system, head!.personNo, { purpose: config.inquiryPurposes[0] });
  household = {
    headNo: head!.personNo,
    familyName: inquiry.current.name!.family,
    householdNo: head!.householdNo,
    members: sizes.get(head!.householdNo)!,
  };
  const other = plain.find((h) => h.householdNo !== household.householdNo);
  expect(other, 'a resident of another household').toBeDefined();
  victim = { personNo: other!.personNo, householdNo: other!.householdNo };
}, 180_000);

afterAll(async () => {
  await e2e?.close();
});

const screenshot = (name: string) => e2e.screenshot(name);
const unlabelledFields = () => e2e.unlabelledFields();
const signIn = (a: typeof clerk) => e2e.signIn(a);
const signOut = () => e2e.signOut();

async function openArea(label: string): Promise<void> {
  await page.getByRole('navigation', { name: '業務メニュー' }).getByRole('button', { name: label }).click();
  await page.getByRole('heading', { name: label, level: 1 }).waitFor();
}

/**
 * Waits (briefly) for Chromium's PDF viewer to load the document (it may then take the focus). With its frame in
 * the page, headless Chromium can lose mouse clicks, so the steps after it use the keyboard.
 */
async function pdfSettled(title: string): Promise<void> {
  const url = await page.getByTitle(title).getAttribute('src');
  // The viewer (a chrome-extension frame) loads the document into a frame of its own: two frames of the URL.
  await expect
    .poll(() => page.frames().filter((f) => f.url() === url).length, { timeout: 5_000 })
    .toBeGreaterThanOrEqual(2)
    .catch(() => undefined);
  await page.waitForTimeout(300);
}

/** The bytes behind the PDF frame's blob: URL, read in the page (the PDF exists only there). */
async function framePdf(title: string): Promise<Buffer> {
  const url = await page.getByTitle(title).getAttribute('src');
  expect(url).toMatch(/^blob:/);
  const base64 = await page.evaluate(async (u) => {
    const w = globalThis as unknown as BrowserGlobals;
    const bytes = new Uint8Array(await (await w.fetch(u)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return w.btoa(s);
  }, url!);
  return Buffer.from(base64, 'base64');
}

describe('certificates and support measures in Chromium', () => {
  it('issues a 住民票の写し to a household member, reads the PDF and voids it', async () => {
    await signIn(clerk);
    await openArea('証明書発行');
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('01-certificate-form');

    // The lookup by 宛名番号 lists the household; the head becomes the requester.
    await page.getByLabel('宛名番号で対象者を探す').fill(household.headNo);
    await page.getByRole('button', { name: '世帯員を表示' }).click();
    const members = page.getByRole('table', { name: '世帯員' }).locator('tbody tr');
    await expect.poll(() => members.count()).toBe(household.members);
    await members.filter({ hasText: household.headNo }).getByRole('button', { name: '請求者にする' }).click();
    expect(await page.getByLabel('世帯番号', { exact: true }).inputValue()).toBe(household.householdNo);
    expect(await page.getByLabel('請求者の宛名番号').inputValue()).toBe(household.headNo);
    await page.getByLabel('世帯主・続柄').check();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('02-certificate-household-found');

    await page.getByRole('button', { name: 'プレビュー' }).click();
    await pdfSettled('プレビューPDF');
    expect(flat(pdfText(await framePdf('プレビューPDF')))).toContain(household.familyName);
    await screenshot('03-certificate-preview');

    await page.getByRole('button', { name: '発行', exact: true }).press('Enter');
    await page.getByTestId('issue-number').waitFor();
    const issueNumber = (await page.getByTestId('issue-number').textContent())!;
    expect(issueNumber).toMatch(/\d{6}$/);
    await pdfSettled('証明書PDF');
    const text = flat(pdfText(await framePdf('証明書PDF')));
    expect(text).toContain(household.familyName);
    expect(text).toContain(flat(issueNumber));
    // The issuance appears in today's list.
    const listed = page
      .getByRole('region', { name: '本日の交付記録' })
      .locator('tbody tr', { hasText: issueNumber });
    await listed.waitFor();
    await screenshot('04-certificate-issued');

    // 誤交付の廃棄: recorded with its reason, shown in the list.
    await page.getByLabel('誤交付の廃棄の理由').fill('記載事項の選択誤り');
    // Enter submits (the keyboard path; mouse clicks can be lost while the PDF viewer is in the page).
    await page.getByLabel('誤交付の廃棄の理由').press('Enter');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('廃棄');
    await expect.poll(() => listed.textContent()).toContain('記載事項の選択誤り');
    await screenshot('05-certificate-voided');
    await signOut();
  }, 60_000);

  it('refuses a third party a copy of a support-measure subject; asks to confirm an alert suppression', async () => {
    await signIn(officer);
    await openArea('抑止・支援措置');
    await page.getByLabel('宛名番号').fill(victim.personNo);
    await page.getByRole('button', { name: '抑止を表示' }).click();
    await page.getByText('抑止は設定されていません。').waitFor();
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('06-suppressions');

    // An alert-level certificate suppression on the household of the first test.
    await page.getByLabel('対象の種類').selectOption('householdNo');
    await page.getByLabel('世帯番号').fill(household.householdNo);
    await page.getByRole('button', { name: '抑止を表示' }).click();
    await page.getByRole('heading', { name: `世帯番号 ${household.householdNo} の抑止` }).waitFor();
    await page.getByLabel('抑止する業務').selectOption('certificate');
    await page.getByLabel('水準').selectOption('alert');
    await page.getByLabel('設定の理由').fill('交付時に本人確認を徹底するため');
    await page.getByRole('button', { name: '抑止を設定' }).click();
    await page.locator('tbody tr', { hasText: '交付時に本人確認を徹底するため' }).waitFor();
    expect(await page.locator('tbody tr').first().textContent()).toContain('抑止中');
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('06b-suppression-set');

    await page
      .getByRole('navigation', { name: '抑止・支援措置の業務' })
      .getByRole('button', { name: '支援措置' })
      .click();
    await page.getByLabel('申出者の宛名番号').fill(victim.personNo);
    await page.getByLabel('加害者の氏名').fill('加害　太郎');
    await page.getByLabel('申出の理由（被害の内容・状況）').fill('配偶者からの暴力（DV）');
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('07-support-measure-apply');
    await page.getByRole('button', { name: '申出を受け付ける' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('申出を受け付けました');
    const details = page.getByRole('region', { name: /^支援措置 \d+ の詳細$/ });
    await details.waitFor();
    expect(await details.textContent()).toContain('仮措置（審査中）');
    expect(await details.textContent()).toContain('加害　太郎');
    await screenshot('08-support-measure-details');
    await signOut();

    await signIn(clerk);
    await openArea('証明書発行');
    await page.getByLabel('選んだ方（宛名番号）').check();
    await page.getByLabel('宛名番号で対象者を探す').fill(victim.personNo);
    await page.getByRole('button', { name: '世帯員を表示' }).click();
    await page.getByRole('table', { name: '世帯員' }).waitFor();
    expect(await page.locator('main').textContent()).toContain(victim.personNo);
    await page.getByLabel('第三者').check();
    await page.getByLabel('請求者の氏名（名称）').fill('架空債権回収株式会社');
    await page.getByLabel('請求の事由（正当な理由）').fill('債権の回収のため');
    await page.getByLabel('利用目的').fill('訴訟の提起');
    await page.getByRole('button', { name: '発行', exact: true }).click();
    const alert = page.locator('p.error[role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('支援措置が講じられています');
    expect(await page.getByTitle('証明書PDF').count()).toBe(0);
    await screenshot('09-support-measure-refused');

    // The suppressed household: the clerk is asked to confirm, then issues.
    await page.getByLabel('世帯全員（世帯番号）').check();
    await page.getByLabel('世帯番号', { exact: true }).fill(household.householdNo);
    await page.getByLabel('本人・同一世帯員（本人等）').check();
    await page.getByLabel('請求者の宛名番号').fill(household.headNo);
    await page.getByRole('button', { name: '発行', exact: true }).click();
    const confirm = page.getByRole('button', { name: '抑止を確認済みとして発行する' });
    await confirm.waitFor();
    expect(await page.locator('main').textContent()).toContain('抑止（警告）が設定されています');
    await screenshot('10-suppression-confirmation');
    await confirm.click();
    await page.getByTestId('issue-number').waitFor();
    await pdfSettled('証明書PDF');
    await screenshot('11-issued-after-confirmation');
    await signOut();
  }, 60_000);

  it('breaks no rule of the Content-Security-Policy (the PDF viewer included)', () => {
    expect(e2e.cspViolations).toEqual([]);
  });
});
