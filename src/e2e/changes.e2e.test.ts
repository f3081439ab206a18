/**
 * 異動入力 in a real browser: Debian's Chromium driven by playwright-core against the built staff UI, on a
 * fresh database with the demo city and staff. The clerk registers a move-in household of three through the
 * form and confirmation, then finds and opens the head; a one-person move-in is entered with the keyboard
 * alone; every field of every change form has a label; a person locked by another staff member is shown
 * read-only. Screenshots go to test-artifacts/changes/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SuppressionService } from '../protection/index.js';
import type { ResidentService } from '../registry/index.js';
import { account, LG_CODE, startE2e, type BrowserGlobals, type E2e } from './harness.js';

const clerk = account('clerk');

let e2e: E2e;
let page: Page;
let base: string;
let residents: ResidentService;
/** Demo residents: one free to edit, one locked by another staff member, one under an alert-level 抑止. */
let free: string;
let locked: string;
let alerted: string;
/** Two more households: the first merges into the second. */
let mergeFrom: { personNo: string; householdNo: string; members: string[] };
let mergeInto: { householdNo: string };
const other = {
  lgCode: LG_CODE,
  staffId: 'other-clerk',
  terminalId: 'T-OTHER',
  permissions: new Set(['change'] as const),
};

/** A recent day (so never in the future on the server's clock), written in the Japanese era: R8.11.23. */
function recentEraDate(daysAgo: number): string {
  const d = new Date(Date.now() - daysAgo * 86_400_000);
  return `R${d.getUTCFullYear() - 2018}.${d.getUTCMonth() + 1}.${d.getUTCDate()}`;
}

/** The same kind of day in Gregorian form: 2026-11-24. */
function recentIsoDate(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

beforeAll(async () => {
  e2e = await startE2e({ name: 'changes', timeoutMs: 15_000 });
  ({ page, base, residents } = e2e);
  const { system, audit, keyring, db } = e2e;
  const { hits } = await residents.search(system, { status: 'current', pageSize: 100 });
  const plain = hits.filter((h) => h.kind === 'japanese' && h.suppressions.length === 0);
  const households: string[] = [...new Map(plain.map((h) => [h.householdNo, h.personNo])).values()];
  expect(households.length, 'three demo households without suppression').toBeGreaterThanOrEqual(3);
  [free, locked, alerted] = [households[0]!, households[1]!, households[2]!];
  const byHousehold = (no: string) => hits.filter((h) => h.householdNo === no).map((h) => h.personNo);
  const rest = [...new Set(plain.map((h) => h.householdNo))]
    .slice(3)
    .filter((no) => hits.filter((h) => h.householdNo === no).every((h) => h.suppressions.length === 0));
  expect(rest.length, 'two more demo households').toBeGreaterThanOrEqual(2);
  mergeFrom = { personNo: byHousehold(rest[0]!)[0]!, householdNo: rest[0]!, members: byHousehold(rest[0]!) };
  mergeInto = { householdNo: rest[1]! };
  // Another staff member is editing this person.
  await residents.lockForEdit(other, locked);
  // And this person's changes carry an alert-level suppression (抑止・注意).
  await new SuppressionService(db, { audit, keyring, suppressionReleaseMinutes: 30 }).set(system, {
    target: { personNo: alerted },
    process: 'change',
    level: 'alert',
    startsOn: e2e.audit.clock.today(),
    reason: '本人からの申出により確認が必要',
  });
}, 180_000);

afterAll(async () => {
  await e2e?.close();
});

const screenshot = (name: string) => e2e.screenshot(name);
const unlabelledFields = () => e2e.unlabelledFields();

async function activeElement() {
  return page.evaluate(() => {
    const a = (globalThis as unknown as BrowserGlobals).document.activeElement;
    return { tag: a?.tagName ?? '', id: a?.id ?? '', text: a?.textContent ?? '' };
  });
}

/** Presses Tab until the focused element matches; fails if it never does. */
async function tabTo(matches: (a: { tag: string; id: string; text: string }) => boolean, what: string) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    if (matches(await activeElement())) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

async function tabToField(id: string, text?: string): Promise<void> {
  await tabTo((a) => a.id === id, `#${id}`);
  if (text !== undefined) await page.keyboard.type(text);
}

async function signIn(): Promise<void> {
  await page.getByRole('heading', { name: 'ログイン' }).waitFor();
  await e2e.signIn(clerk);
  await page.getByRole('heading', { name: '住民検索' }).waitFor();
}

const HOUSEHOLD = [
  {
    family: '鷹野辺',
    given: '健一',
    rf: 'たかのべ',
    rg: 'けんいち',
    birth: '昭和60年5月10日',
    sex: 'male',
    rel: '世帯主',
  },
  {
    family: '鷹野辺',
    given: '美咲',
    rf: 'たかのべ',
    rg: 'みさき',
    birth: 'H2.3.4',
    sex: 'female',
    rel: '妻',
  },
  { family: '鷹野辺', given: '蓮', rf: 'たかのべ', rg: 'れん', birth: '2015-06-07', sex: 'male', rel: '子' },
] as const;

describe('異動入力 in Chromium', () => {
  it('registers a move-in household of three, confirms, and finds the household', async () => {
    await page.goto(`${base}/`);
    await signIn();
    await page.getByRole('button', { name: '異動入力' }).click();
    await page.getByRole('heading', { name: '異動入力' }).waitFor();
    await screenshot('01-move-in-empty');

    // Inline checks: submitting an empty form marks each missing field, tied to it by aria-describedby.
    await page.getByRole('button', { name: '確認へ進む' }).click();
    const address = page.getByLabel('住所（必須）', { exact: true });
    await expect.poll(() => address.getAttribute('aria-invalid')).toBe('true');
    expect(await address.getAttribute('aria-describedby')).toContain('movein-address-error');
    expect(await page.locator('#movein-address-error').textContent()).toBe('住所を入力してください。');
    await page.locator('#movein-m-0-myNumber').fill('12345');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await expect
      .poll(() => page.locator('#movein-m-0-myNumber-error').textContent())
      .toBe('個人番号は12桁の数字で入力してください。');
    await screenshot('02-move-in-inline-errors');
    await page.locator('#movein-m-0-myNumber').fill('');

    await address.fill('架空市中央区本町一丁目2番3号');
    await page.getByLabel('方書（任意）').fill('コーポ本町201');
    await page.getByLabel('前住所（必須）').fill('東京都千代田区霞が関一丁目1番1号');
    await page.getByLabel('異動日（転入日）（必須）').fill(recentEraDate(3));
    await page.getByLabel('届出日（必須）').fill(recentIsoDate(1));
    // The date is read back in the era with the Gregorian year.
    await expect.poll(() => page.locator('#movein-effectiveDate-hint').textContent()).toMatch(/^→ 令和\d+年/);
    await page.getByRole('button', { name: '世帯員を追加' }).click();
    await page.getByRole('button', { name: '世帯員を追加' }).click();
    for (const [i, m] of HOUSEHOLD.entries()) {
      const p = `#movein-m-${i}`;
      await page.locator(`${p}-family`).fill(m.family);
      await page.locator(`${p}-given`).fill(m.given);
      await page.locator(`${p}-readingFamily`).fill(m.rf);
      await page.locator(`${p}-readingGiven`).fill(m.rg);
      await page.locator(`${p}-birthDate`).fill(m.birth);
      await page.locator(`${p}-sex`).selectOption(m.sex);
      await page.locator(`${p}-relationship`).fill(m.rel);
    }
    // Leave the last 続柄 (closing its suggestions) before moving on.
    await page.keyboard.press('Tab');
    // The messages follow the corrections: none is left.
    expect(await page.locator('.field-error').count()).toBe(0);
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('03-move-in-filled');

    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '確認: 転入' }).waitFor();
    const confirmText = (await page.locator('.change-confirm').textContent()) ?? '';
    expect(confirmText).toContain('鷹野辺 健一（たかのべ けんいち）');
    expect(confirmText).toContain('昭和60年5月10日（1985年）');
    expect(confirmText).toContain('平成2年3月4日（1990年）');
    expect(confirmText).toContain('新しい世帯を設ける');
    // The server's dry run: the records the move-in will write, hidden items hidden as in the inquiry.
    const resulting = page.getByRole('region', { name: /^登録後の記録/ });
    expect(await resulting.locator('article').count()).toBe(3);
    const head =
      (await resulting.getByRole('article', { name: '鷹野辺 健一 の登録後の記録' }).textContent()) ?? '';
    expect(head).toContain('（新たに記載）');
    expect(head).toContain('新しい世帯（世帯番号は登録時に採番）・続柄 世帯主');
    expect(head).toContain('架空市中央区本町一丁目2番3号 コーポ本町201');
    expect(head).toContain('東京都千代田区霞が関一丁目1番1号');
    expect(head).toContain('昭和60年5月10日（1985年）・男');
    const wife =
      (await resulting.getByRole('article', { name: '鷹野辺 美咲 の登録後の記録' }).textContent()) ?? '';
    expect(wife).toContain('続柄 妻');
    await screenshot('04-move-in-confirm');

    await page.getByRole('button', { name: 'この内容で登録' }).click();
    await page.getByRole('heading', { name: /^登録しました（異動番号 \d+）$/ }).waitFor();
    expect(await page.locator('.change-persons li').count()).toBe(3);
    await screenshot('05-move-in-done');

    // The new household: search the name, open the head for a purpose, see three members.
    await page.getByRole('button', { name: '住民検索' }).click();
    await page.getByLabel('氏名（かな・漢字・英字）').fill('鷹野辺 健一');
    await page.getByLabel('氏名（かな・漢字・英字）').press('Enter');
    const row = page.locator('tbody tr', { hasText: '鷹野辺 健一' });
    await row.waitFor();
    await row.click();
    await page.getByLabel('照会目的').selectOption({ index: 1 });
    await page.getByRole('button', { name: '照会する' }).click();
    await page.getByRole('heading', { name: /^世帯（世帯番号/ }).waitFor();
    const members = page.locator('section[aria-labelledby="household-title"] tbody tr');
    expect(await members.count()).toBe(3);
    const household = (await page.locator('section[aria-labelledby="household-title"]').textContent()) ?? '';
    for (const m of HOUSEHOLD) expect(household).toContain(m.given);
    for (const m of HOUSEHOLD) expect(household).toContain(m.rel);
    await screenshot('06-inquiry-new-household');
  }, 60_000);

  it('enters a one-person move-in with the keyboard alone', async () => {
    // Back to the search screen (a second sign-in would reuse the same one-time code).
    await page.getByRole('button', { name: '住民検索' }).click();
    await page.getByRole('heading', { name: '住民検索' }).waitFor();
    await page.getByLabel('氏名（かな・漢字・英字）').focus();
    // From here on: Tab, typing and Enter only.
    await tabTo((a) => a.tag === 'BUTTON' && a.text === '異動入力', 'the 異動入力 menu');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '異動入力' }).waitFor();
    await tabToField('movein-address', '架空市中央区本町三丁目4番5号');
    await tabToField('movein-previous', '大阪府大阪市北区梅田一丁目1番1号');
    await tabToField('movein-effectiveDate', recentIsoDate(2));
    await tabToField('movein-notifiedOn', recentEraDate(1));
    await tabToField('movein-m-0-family', '椎葉');
    await tabToField('movein-m-0-given', '陽向');
    await tabToField('movein-m-0-readingFamily', 'しいば');
    await tabToField('movein-m-0-readingGiven', 'ひなた');
    await tabToField('movein-m-0-birthDate', '令和2年8月9日');
    await tabToField('movein-m-0-sex');
    await page.keyboard.press('ArrowDown');
    await tabToField('movein-m-0-relationship');
    expect(await page.locator('#movein-m-0-relationship').inputValue()).toBe('世帯主');
    await screenshot('07-keyboard-filled');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '確認: 転入' }).waitFor();
    await expect.poll(async () => (await activeElement()).text).toBe('この内容で登録');
    expect(await page.locator('.change-confirm').textContent()).toContain('令和2年8月9日（2020年）');
    await screenshot('08-keyboard-confirm');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^登録しました/ }).waitFor();
    await screenshot('09-keyboard-done');
    // Open the new person from the result, still by keyboard.
    await tabTo((a) => a.tag === 'BUTTON' && a.text === '椎葉 陽向 を照会', 'the 照会 button');
    await page.keyboard.press('Enter');
    await page.getByLabel('照会目的').waitFor();
    await expect.poll(() => page.locator('#inquiry-purpose option').count()).toBeGreaterThan(1);
    await expect.poll(async () => (await activeElement()).id).toBe('inquiry-purpose');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^履歴/ }).waitFor();
    expect(await page.locator('dl.record').textContent()).toContain('椎葉 陽向');
    await screenshot('10-keyboard-inquiry');
  }, 60_000);

  it('labels every field of every change form, and shows a person edited by another staff member as read-only', async () => {
    await page.getByRole('button', { name: '異動入力' }).click();
    const type = page.getByLabel('異動の種類');
    const values = await page
      .locator('#change-type option')
      .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    expect(values).toHaveLength(11);
    for (const value of values) {
      await type.selectOption(value);
      const picker = page.getByLabel('対象者の宛名番号（必須）');
      if (await picker.count()) {
        await picker.fill(free);
        await picker.press('Enter');
        await page.getByRole('button', { name: '確認へ進む' }).waitFor();
      }
      expect(await unlabelledFields(), value).toEqual([]);
      await screenshot(`11-form-${value}`);
      if (await page.getByRole('button', { name: '編集を取りやめる' }).count()) {
        await page.getByRole('button', { name: '編集を取りやめる' }).click();
      }
    }

    await type.selectOption('death');
    await page.getByLabel('対象者の宛名番号（必須）').fill(locked);
    await page.getByLabel('対象者の宛名番号（必須）').press('Enter');
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('他の職員が編集中です。参照のみ可能です。');
    expect(await page.getByRole('button', { name: '確認へ進む' }).count()).toBe(0);
    await screenshot('12-locked-by-other');
  }, 60_000);

  it('moves a household within the city after the lock was released, and registers past an alert-level 抑止 once confirmed', async () => {
    // The clerk's lock on the person called up in the label check was released on 編集を取りやめる.
    await expect(residents.lockForEdit(other, free)).resolves.toBeDefined();
    await residents.releaseEdit(other, free);

    const type = page.getByLabel('異動の種類');
    await page.getByRole('button', { name: '閉じる' }).click();
    await type.selectOption('move-within');
    await page.getByLabel('対象者の宛名番号（必須）').fill(free);
    await page.getByLabel('対象者の宛名番号（必須）').press('Enter');
    await page.getByRole('button', { name: '確認へ進む' }).waitFor();
    for (const box of await page.locator('.member-choice input[type=checkbox]').all()) await box.check();
    await page.getByLabel('新しい住所（必須）').fill('架空市中央区本町五丁目6番7号');
    await page.getByLabel('異動日（転居日）（必須）').fill(recentEraDate(2));
    await page.getByLabel('届出日（必須）').fill(recentEraDate(1));
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '確認: 転居' }).waitFor();
    await screenshot('13-move-within-confirm');
    await page.getByRole('button', { name: 'この内容で登録' }).click();
    await page.getByRole('heading', { name: /^登録しました/ }).waitFor();
    await screenshot('14-move-within-done');

    await page.getByRole('button', { name: '続けて入力' }).click();
    await type.selectOption('correction');
    await page.getByLabel('対象者の宛名番号（必須）').fill(alerted);
    await page.getByLabel('対象者の宛名番号（必須）').press('Enter');
    await page.getByRole('button', { name: '確認へ進む' }).waitFor();
    await page.getByLabel('備考', { exact: true }).fill('届出により備考を記載');
    await page.getByLabel('異動日（必須）').fill(recentIsoDate(1));
    await page.getByRole('button', { name: '確認へ進む' }).click();
    // The dry run meets the suppression: its message is shown with the resulting record, and the clerk may
    // register having confirmed it.
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('抑止（警告）');
    expect(await page.getByRole('region', { name: /^登録後の記録/ }).textContent()).toContain(
      '届出により備考を記載',
    );
    await screenshot('15-suppression-confirmation');
    await page.getByRole('button', { name: '抑止を確認して登録' }).click();
    await page.getByRole('heading', { name: /^登録しました/ }).waitFor();
    await screenshot('16-correction-done');
    // Nothing of what was entered stays in the browser.
    expect(
      await page.evaluate(() => {
        const w = globalThis as unknown as BrowserGlobals;
        return w.localStorage.length + w.sessionStorage.length;
      }),
    ).toBe(0);
  }, 60_000);
  it('enters a foreign resident by move-in from abroad, with the art. 30-45 items and a 通称', async () => {
    await page.getByRole('button', { name: '続けて入力' }).click();
    const type = page.getByLabel('異動の種類');
    await type.selectOption('move-in');
    await page.getByLabel('転入元').selectOption('abroad');
    await page.getByLabel('住所（必須）', { exact: true }).fill('架空市中央区本町二丁目8番9号');
    await page.getByLabel('前住所（国外）（必須）').fill('アメリカ合衆国');
    await page.getByLabel('異動日（転入日）（必須）').fill(recentEraDate(2));
    await page.getByLabel('届出日（必須）').fill(recentIsoDate(1));
    const p = '#movein-m-0';
    await page.locator(`${p}-kind`).selectOption('foreign');
    await page.locator(`${p}-latinName`).fill('Garcia Maria');
    await page.locator(`${p}-readingFamily`).fill('ガルシア');
    await page.locator(`${p}-readingGiven`).fill('マリア');
    await page.locator(`${p}-birthDate`).fill('1992-02-14');
    await page.locator(`${p}-sex`).selectOption('female');
    await page.locator(`${p}-relationship`).fill('世帯主');
    await page.locator(`${p}-nationality`).fill('スペイン');
    await page.locator(`${p}-foreignSince`).fill(recentIsoDate(2));
    await page.locator(`${p}-category`).selectOption('midLongTerm');
    await page.locator(`${p}-residenceStatus`).fill('技術・人文知識・国際業務');
    await page.locator(`${p}-periodOfStay`).fill('3年');
    await page.locator(`${p}-expiryDate`).fill('R11.3.31');
    await page.locator(`${p}-cardNo`).fill('ab12345678cd');
    await page.locator(`${p}-aliasName`).fill('山田マリア');
    await page.keyboard.press('Tab');
    expect(await page.locator('.field-error').count()).toBe(0);
    expect(await unlabelledFields()).toEqual([]);
    // No 本籍 for a foreign resident.
    expect(await page.locator(`${p}-honsekiKind`).count()).toBe(0);
    await screenshot('17-foreign-move-in-filled');

    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '確認: 国外からの転入' }).waitFor();
    const record =
      (await page.getByRole('article', { name: 'GARCIA MARIA の登録後の記録' }).textContent()) ?? '';
    expect(record).toContain('スペイン');
    expect(record).toContain('中長期在留者');
    expect(record).toContain('山田マリア');
    expect(record).toContain('アメリカ合衆国（国外）');
    // The clerk may not see residence-status items: hidden in the preview as in the inquiry.
    expect(record).toContain('非表示（在留資格等は入力のとおり記録）');
    expect(record).not.toContain('AB12345678CD');
    await screenshot('18-foreign-move-in-confirm');
    await page.getByRole('button', { name: 'この内容で登録' }).click();
    await page.getByRole('heading', { name: /^登録しました/ }).waitFor();
    await screenshot('19-foreign-move-in-done');

    const { hits } = await residents.search(e2e.system, { name: 'GARCIA MARIA' });
    expect(hits).toHaveLength(1);
    const stored = await residents.inquire(e2e.system, hits[0]!.personNo, {
      purpose: e2e.config.inquiryPurposes[0],
      reveal: ['residenceStatus'],
    });
    expect(stored.current.kind).toBe('foreign');
    expect(stored.current.foreign).toMatchObject({
      latinName: 'GARCIA MARIA',
      nationality: 'スペイン',
      status: {
        category: 'midLongTerm',
        residenceStatus: '技術・人文知識・国際業務',
        periodOfStay: '3年',
        expiryDate: '2029-03-31',
        residenceCardNo: 'AB12345678CD',
      },
      alias: { name: '山田マリア' },
    });
    expect(stored.current.previousAddress).toEqual({ text: 'アメリカ合衆国', abroad: true });
  }, 60_000);

  it('merges a household into another, showing the members in their new household before registering', async () => {
    await page.getByRole('button', { name: '続けて入力' }).click();
    await page.getByLabel('異動の種類').selectOption('household');
    await page.getByLabel('対象者の宛名番号（必須）').fill(mergeFrom.personNo);
    await page.getByLabel('対象者の宛名番号（必須）').press('Enter');
    await page.getByRole('button', { name: '確認へ進む' }).waitFor();
    await page.getByLabel('変更の内容').selectOption('merge');
    await page.getByLabel('合併先の世帯番号（必須）').fill(mergeInto.householdNo);
    for (const no of mergeFrom.members) await page.locator(`#hh-members-rel-${no}`).fill('同居人');
    await page.getByLabel('異動日（必須）').fill(recentEraDate(1));
    expect(await unlabelledFields()).toEqual([]);
    await screenshot('20-merge-filled');
    await page.getByRole('button', { name: '確認へ進む' }).click();
    await page.getByRole('heading', { name: '確認: 世帯合併' }).waitFor();
    const resulting = page.getByRole('region', { name: /^登録後の記録/ });
    expect(await resulting.locator('article').count()).toBe(mergeFrom.members.length);
    for (const text of await resulting.locator('article').allTextContents()) {
      expect(text).toContain(`世帯番号 ${mergeInto.householdNo}・続柄 同居人`);
    }
    await screenshot('21-merge-confirm');
    await page.getByRole('button', { name: 'この内容で登録' }).click();
    await page.getByRole('heading', { name: /^登録しました/ }).waitFor();
    await screenshot('22-merge-done');
    const merged = await residents.household(e2e.system, mergeInto.householdNo, {
      purpose: e2e.config.inquiryPurposes[0],
    });
    for (const no of mergeFrom.members) {
      expect(merged.members.find((m) => m.personNo === no)?.relationship).toBe('同居人');
    }
  }, 60_000);

  it('breaks no rule of the Content-Security-Policy', () => {
    expect(e2e.cspViolations).toEqual([]);
  });
});
