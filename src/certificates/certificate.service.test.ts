/**
 * Certificate issuance on a real database: each requester rule and refusal, items omitted unless
 * requested, removed-record copies, move-out certificates, fees and 公用, the issuance record, voiding,
 * support measures (refused, logged, alert raised), and the PDF's text read back with pdftotext.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAlerts, searchAccessLog } from '../audit/index.js';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import {
  ADDRESS,
  TEST_LG_CODE,
  actor,
  foreignPerson,
  moveInOf,
  person,
  registryServices,
  testClock,
} from '../registry/testing.js';
import { DomainError, type Actor } from '../shared/index.js';
import type { CertificateRequestInput } from './certificate.js';
import type { CertificateService } from './certificate.service.js';
import { protectionServices, staff } from '../protection/testing.js';
import { certificateService, flat, pdfText } from './testing.js';

let handle: DatabaseHandle;
let service: CertificateService;
const clock = testClock();

/** 山田 household: head (太郎), wife (花子), child (翔太). Another household: 鈴木 一郎. */
let household: string;
let head: string;
let wife: string;
let child: string;
let headMyNumber: string;
let other: string;
let foreignHousehold: string;
let foreigner: string;

beforeAll(async () => {
  handle = await openTestDatabase();
  await ensureMunicipality(handle.db, TEST_LG_CODE, '架空市');
  const { changes } = registryServices(handle, clock);
  const headInput = person({ name: { family: '山田', given: '太郎' }, birthDate: '1980-05-05' });
  headMyNumber = headInput.myNumber!;
  const family = await changes.moveIn(
    actor,
    moveInOf([
      headInput,
      person({
        relationship: '妻',
        sex: 'female',
        name: { family: '山田', given: '花子' },
        reading: { family: 'ヤマダ', given: 'ハナコ', status: 'certified' },
        birthDate: '1982-03-03',
      }),
      person({ relationship: '子', name: { family: '山田', given: '翔太' }, birthDate: '2019-05-01' }),
    ]),
  );
  [head, wife, child] = family.persons.map((p) => p.personNo as string) as [string, string, string];
  household = family.householdNos[0]!;
  const others = await changes.moveIn(
    actor,
    moveInOf([person({ name: { family: '鈴木', given: '一郎' } })], {
      address: { text: '架空市南区港町五丁目6番7号' },
    }),
  );
  other = others.persons[0]!.personNo;
  const foreign = await changes.moveIn(actor, moveInOf([foreignPerson({ birthDate: '1990-07-15' })]));
  foreigner = foreign.persons[0]!.personNo;
  foreignHousehold = foreign.householdNos[0]!;
  service = certificateService(handle.db, clock);
});
afterAll(async () => {
  await handle?.close();
});

const self = (personNo: string) => ({ type: 'self' as const, personNo });
const thirdParty = {
  type: 'thirdParty' as const,
  name: '債権回収株式会社',
  reason: '貸金返還請求訴訟の提起のため',
  purpose: '訴状に記載する被告の住所の確認',
};
const government = {
  type: 'government' as const,
  body: '架空県警察本部',
  legalBasis: '刑事訴訟法第197条第2項',
};

function residentCopy(overrides: Partial<CertificateRequestInput> = {}): CertificateRequestInput {
  return { type: 'residentCopy', householdNo: household, requester: self(head), ...overrides };
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

/** The PDF's text without whitespace; compare with `f('...')`. */
function textOf(pdf: Buffer): string {
  return flat(pdfText(pdf));
}
const f = flat;

async function countIssuances(): Promise<number> {
  const r = await handle.db
    .selectFrom('issuance')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

describe('who may obtain what', () => {
  it('issues a copy of the whole household to a member, recording every field and logging it', async () => {
    const { issuance, pdf } = await service.issue(actor, residentCopy({ requester: self(wife) }));
    expect(issuance).toMatchObject({
      issuedAt: clock.now().toISOString(),
      issuedOn: '2026-11-26',
      place: '架空市',
      terminalId: actor.terminalId,
      printerId: 'P1',
      staffId: actor.staffId,
      type: 'residentCopy',
      requesterType: 'self',
      requester: { type: 'self', personNo: wife },
      householdNo: household,
      subjects: [head, wife, child],
      items: [],
      withHistory: false,
      sheets: 1,
      fee: 300,
      official: false,
      myNumberPrinted: false,
      status: 'issued',
    });
    expect(issuance.issueNumber).toMatch(/^令和8年11月26日 架空市 T-01 P1 \d{6}$/);
    const text = textOf(pdf);
    for (const expected of [
      '住民票の写し',
      '山田　太郎',
      '山田　花子',
      '山田　翔太',
      'ヤマダ　ハナコ',
      ADDRESS.text,
      '昭和55年5月5日',
      '令和元年5月1日',
      'この写しは、住民票の原本と相違ないことを証明する。',
      '架空市長　見本　一郎',
    ]) {
      expect(text).toContain(f(expected));
    }
    // The issue number exactly as printed, with its page part.
    expect(pdfText(pdf)).toContain(`${issuance.issueNumber} 1/1`);
    expect(text).not.toContain(f(headMyNumber));
    expect(text).not.toContain(f('世帯主'));
    expect(text).not.toContain(f('本籍'));
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'issuance', personNo: wife });
    expect(log.entries[0]).toMatchObject({
      outcome: 'success',
      targetPersons: [head, wife, child],
      myNumberPrinted: false,
      details: expect.objectContaining({ issuanceId: issuance.issuanceId }) as unknown,
    });
  });

  it('prints the 個人番号 only when requested by the person or household, and logs the printing', async () => {
    const { issuance, pdf } = await service.issue(
      actor,
      residentCopy({ personNos: [head], items: ['myNumber', 'residentCode'] }),
    );
    expect(issuance.myNumberPrinted).toBe(true);
    expect(textOf(pdf)).toContain(f(headMyNumber));
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'issuance', personNo: head });
    expect(log.entries[0]).toMatchObject({ myNumberPrinted: true, targetPersons: [head] });

    for (const requester of [thirdParty, government]) {
      const e = await refusal(service.issue(actor, residentCopy({ items: ['myNumber'], requester })));
      expect(e.code).toBe('MY_NUMBER_ONLY_FOR_SELF');
    }
    const e = await refusal(
      service.issue(actor, residentCopy({ items: ['residentCode'], requester: thirdParty })),
    );
    expect(e.code).toBe('MY_NUMBER_ONLY_FOR_SELF');
  });

  it('refuses a self request from outside the household', async () => {
    const e = await refusal(service.issue(actor, residentCopy({ requester: self(other) })));
    expect(e.code).toBe('NOT_A_HOUSEHOLD_MEMBER');
    expect(e.message).toContain('第三者請求');
    const refused = await searchAccessLog(handle.db, TEST_LG_CODE, {
      function: 'issuance',
      outcome: 'refused',
    });
    expect(refused.entries[0]).toMatchObject({
      targetPersons: [head, wife, child],
      details: { code: 'NOT_A_HOUSEHOLD_MEMBER' },
    });
  });

  it('asks a third party for the stated reason and purpose, and records them', async () => {
    for (const missing of [
      { ...thirdParty, reason: undefined },
      { ...thirdParty, purpose: '' },
    ]) {
      const e = await refusal(service.issue(actor, residentCopy({ requester: missing })));
      expect(e.code).toBe('REASON_REQUIRED');
    }
    const e = await refusal(
      service.issue(actor, residentCopy({ requester: { ...thirdParty, name: undefined } })),
    );
    expect(e.code).toBe('REQUESTER_NAME_REQUIRED');
    const { issuance } = await service.issue(
      actor,
      residentCopy({ personNos: [head], requester: thirdParty }),
    );
    expect(issuance).toMatchObject({ requesterType: 'thirdParty', requester: thirdParty, fee: 300 });
  });

  it('issues to a government body for official duties free of charge, marked 公用', async () => {
    const e = await refusal(
      service.issue(actor, residentCopy({ requester: { ...government, legalBasis: undefined } })),
    );
    expect(e.code).toBe('LEGAL_BASIS_REQUIRED');
    const { issuance, pdf } = await service.issue(actor, residentCopy({ requester: government }));
    expect(issuance).toMatchObject({ official: true, fee: 0, requester: government });
    expect(textOf(pdf)).toContain(f('公用'));
  });

  it('needs the certificate permission', async () => {
    const clerk: Actor = { ...actor, permissions: new Set(['inquiry']) };
    const e = await refusal(service.issue(clerk, residentCopy()));
    expect(e.code).toBe('FORBIDDEN');
  });
});

describe('items', () => {
  it('leaves out head/relationship and 本籍 unless requested, and shows them when requested', async () => {
    const plain = textOf((await service.preview(actor, residentCopy())).pdf);
    expect(plain).not.toContain(f('続柄'));
    expect(plain).not.toContain(f('本籍'));
    expect(plain).not.toContain(f('筆頭者'));
    const full = textOf(
      (await service.preview(actor, residentCopy({ items: ['householdHead', 'honseki'] }))).pdf,
    );
    expect(full).toContain(f('世帯主'));
    expect(full).toContain(f('続柄　妻'));
    expect(full).toContain(f('本籍'));
    expect(full).toContain(f('本籍東京都千代田区千代田1番筆頭者山田　太郎'));
    expect(full).toContain(f('見本'));
  });

  it("shows a foreign resident's birth date in the Gregorian calendar and their items only on request", async () => {
    const request: CertificateRequestInput = {
      type: 'residentCopy',
      householdNo: foreignHousehold,
      requester: self(foreigner),
    };
    const plain = textOf((await service.preview(actor, request)).pdf);
    expect(plain).toContain(f('SMITH JOHN'));
    expect(plain).toContain(f('1990年7月15日'));
    expect(plain).not.toContain(f('アメリカ合衆国'));
    expect(plain).not.toContain(f('技術・人文知識・国際業務'));
    const full = textOf(
      (
        await service.preview(actor, {
          ...request,
          items: ['nationality', 'foreignCategory', 'residenceStatus', 'residenceCardNo'],
        })
      ).pdf,
    );
    expect(full).toContain(f('アメリカ合衆国'));
    expect(full).toContain(f('中長期在留者'));
    expect(full).toContain(f('技術・人文知識・国際業務'));
    expect(full).toMatch(/AB\d{8}CD/);
  });

  it('adds the history when asked', async () => {
    const text = textOf(
      (await service.preview(actor, residentCopy({ personNos: [head], withHistory: true }))).pdf,
    );
    expect(text).toContain(f('【履歴】'));
    expect(text).toContain(f('転入'));
  });
});

describe('removed records and move-out', () => {
  let dead: string;
  let mover: string;
  let moverHousehold: string;

  beforeAll(async () => {
    const { changes } = registryServices(handle, clock);
    const h = await changes.moveIn(
      actor,
      moveInOf([
        person({ name: { family: '佐藤', given: '健一' } }),
        person({ relationship: '父', name: { family: '佐藤', given: '健蔵' }, birthDate: '1940-01-01' }),
      ]),
    );
    const [, father] = h.persons.map((p) => p.personNo);
    dead = father!;
    await changes.death(actor, {
      personNo: dead,
      effectiveDate: '2026-11-24',
      notifiedOn: '2026-11-25',
      deathDate: '2026-11-24',
    });
    const m = await changes.moveIn(actor, moveInOf([person({ name: { family: '高橋', given: '次郎' } })]));
    mover = m.persons[0]!.personNo;
    moverHousehold = m.householdNos[0]!;
  });

  it('refuses a removed-record copy of a current person, and a resident copy of a removed one', async () => {
    let e = await refusal(
      service.issue(actor, { type: 'removedRecordCopy', personNos: [head], requester: self(head) }),
    );
    expect(e.code).toBe('NOT_REMOVED');
    e = await refusal(
      service.issue(actor, { type: 'residentCopy', personNos: [dead], requester: self(dead) }),
    );
    expect(e.code).toBe('REMOVED_RECORD');
    e = await refusal(
      service.issue(actor, { type: 'removedRecordCopy', householdNo: household, requester: self(head) }),
    );
    expect(e.code).toBe('PERSONS_REQUIRED');
  });

  it('issues a removed-record copy with the reason and date of removal', async () => {
    const { issuance, pdf } = await service.issue(actor, {
      type: 'removedRecordCopy',
      personNos: [dead],
      requester: government,
    });
    expect(issuance).toMatchObject({ type: 'removedRecordCopy', subjects: [dead], fee: 0 });
    const text = textOf(pdf);
    expect(text).toContain(f('除票の写し'));
    expect(text).toContain(f('佐藤　健蔵'));
    expect(text).toContain(f('消除'));
    expect(text).toContain(f('令和8年11月24日　死亡'));
    expect(text).toContain(f('この写しは、除票の原本と相違ないことを証明する。'));
  });

  it('issues a move-out certificate only after a move-out notification, to the person or household', async () => {
    const request: CertificateRequestInput = {
      type: 'moveOutCertificate',
      personNos: [mover],
      requester: self(mover),
    };
    expect((await refusal(service.issue(actor, request))).code).toBe('NO_MOVE_OUT');
    const { changes } = registryServices(handle, clock);
    await changes.moveOut(actor, {
      personNos: [mover],
      notifiedOn: '2026-11-26',
      plannedDate: '2026-12-10',
      destination: { text: '大阪府大阪市北区梅田一丁目1番1号', abroad: false },
    });
    expect((await refusal(service.issue(actor, { ...request, requester: thirdParty }))).code).toBe(
      'MOVE_OUT_ONLY_FOR_SELF',
    );
    const { issuance, pdf } = await service.issue(actor, request);
    expect(issuance).toMatchObject({ type: 'moveOutCertificate', householdNo: moverHousehold, fee: 0 });
    const text = textOf(pdf);
    expect(text).toContain(f('転出証明書'));
    expect(text).toContain(f('大阪府大阪市北区梅田一丁目1番1号'));
    expect(text).toContain(f('令和8年12月10日'));
    expect(text).toContain(f('上記の者は、転出の届出をしたことを証明する。'));
  });
});

describe('the issuance history', () => {
  it('numbers issuances per municipality and day, and starts again the next day', async () => {
    const a = await service.issue(actor, residentCopy());
    const b = await service.issue(actor, residentCopy());
    expect(b.issuance.serial).toBe(a.issuance.serial + 1);
    const nextDay = testClock();
    nextDay.setDay('2026-11-27');
    const c = await certificateService(handle.db, nextDay).issue(actor, residentCopy());
    expect(c.issuance.serial).toBe(1);
    expect(c.issuance.issueNumber).toBe('令和8年11月27日 架空市 T-01 P1 000001');
  });

  it('voids a mis-issued certificate by appending a disposal; nothing can be changed or deleted', async () => {
    const { issuance } = await service.issue(actor, residentCopy());
    const voided = await service.voidIssuance(actor, issuance.issuanceId, {
      reason: '別人の証明書を交付したため回収',
    });
    expect(voided).toMatchObject({
      ...issuance,
      status: 'voided',
      disposal: {
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        reason: '別人の証明書を交付したため回収',
      },
    });
    expect((await refusal(service.voidIssuance(actor, issuance.issuanceId, { reason: '再度' }))).code).toBe(
      'ALREADY_VOIDED',
    );
    const listed = await service.listIssuances(actor, { personNo: head, pageSize: 200 });
    expect(listed.issuances.find((i) => i.issuanceId === issuance.issuanceId)?.status).toBe('voided');
    for (const statement of [
      sql`UPDATE issuance SET fee = 0 WHERE issuance_id = ${issuance.issuanceId}`,
      sql`DELETE FROM issuance WHERE issuance_id = ${issuance.issuanceId}`,
      sql`UPDATE issuance_disposal SET reason = 'x'`,
      sql`DELETE FROM issuance_disposal`,
    ]) {
      await expect(statement.execute(handle.db)).rejects.toThrow(/append-only/);
    }
    // Newest first is by time: another test's issuances to this person are dated the next day.
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'issuance', personNo: head });
    expect(log.entries.filter((e) => e.details?.['voided'] === issuance.issuanceId)).toHaveLength(1);
  });

  it('renders byte-identical output for the same request at the same time', async () => {
    const request = residentCopy({ items: ['householdHead'], withHistory: true });
    const a = await service.preview(actor, request);
    const b = await service.preview(actor, request);
    expect(Buffer.compare(a.pdf, b.pdf)).toBe(0);
    const before = await countIssuances();
    expect(before).toBeGreaterThan(0);
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'inquiry', personNo: head });
    expect(log.entries[0]!.details).toMatchObject({ preview: true });
    expect(await countIssuances()).toBe(before);
  });
});

describe('support measures', () => {
  it("refuses a copy of a protected person's record to anyone but the person, logs it and raises an alert", async () => {
    const { measures } = protectionServices(handle.db, clock);
    const officer = staff(['supportMeasure']);
    const measure = await measures.apply(officer, {
      applicant: { personNo: wife, relation: '本人（配偶者からの暴力）' },
      perpetrator: { name: '加害　太郎', address: '東京都港区芝公園4丁目2番8号' },
      blockedServices: ['residentCopy', 'kiosk'],
      reason: '配偶者からの暴力',
    });
    const issued = await countIssuances();
    for (const requester of [thirdParty, government, self(head)]) {
      const e = await refusal(service.issue(actor, residentCopy({ requester })));
      expect(e.code).toBe('SUPPORT_MEASURE_REFUSED');
      expect(e.message).toContain('支援措置');
    }
    expect(await countIssuances()).toBe(issued);
    const refused = await searchAccessLog(handle.db, TEST_LG_CODE, {
      function: 'issuance',
      outcome: 'refused',
      personNo: wife,
    });
    expect(refused.entries[0]).toMatchObject({
      targetPersons: [head, wife, child],
      details: { code: 'SUPPORT_MEASURE_REFUSED', facts: { supportMeasureSubject: true } },
    });
    const alerts = await listAlerts(handle.db, TEST_LG_CODE, { rule: 'supportMeasureSubject' });
    expect(alerts.alerts.some((a) => a.entrySeq === refused.entries[0]!.seq)).toBe(true);

    // The person themself obtains their own copy (and the household's); a copy of the others alone passes.
    const own = await service.issue(actor, residentCopy({ personNos: [wife], requester: self(wife) }));
    expect(own.issuance.subjects).toEqual([wife]);
    const whole = await service.issue(actor, residentCopy({ requester: self(wife) }));
    expect(whole.issuance.subjects).toEqual([head, wife, child]);
    const others = await service.issue(
      actor,
      residentCopy({ personNos: [head, child], requester: thirdParty }),
    );
    expect(others.issuance.subjects).toEqual([head, child]);

    // The officer releases one case: one issuance passes, the next is refused again.
    await measures.releaseCase(officer, measure.measureId, { reason: '裁判所からの嘱託（一件限り）' });
    const released = await service.issue(actor, residentCopy({ requester: government }));
    expect(released.issuance.subjects).toEqual([head, wife, child]);
    const e = await refusal(service.issue(actor, residentCopy({ requester: government })));
    expect(e.code).toBe('SUPPORT_MEASURE_REFUSED');
    // A preview never uses up a release.
    await measures.releaseCase(officer, measure.measureId, { reason: 'もう一件' });
    expect((await refusal(service.preview(actor, residentCopy({ requester: government })))).code).toBe(
      'SUPPORT_MEASURE_REFUSED',
    );
    await service.issue(actor, residentCopy({ requester: government }));
  });
});

describe('suppression', () => {
  it('blocks at level error, and asks for confirmation at level alert', async () => {
    const { suppressions } = protectionServices(handle.db, clock);
    const setter = staff(['suppression']);
    const error = await suppressions.set(setter, {
      target: { personNo: other },
      process: 'certificate',
      level: 'error',
      startsOn: '2026-11-01',
      reason: '本人確認の調査中',
    });
    const request: CertificateRequestInput = {
      type: 'residentCopy',
      personNos: [other],
      requester: self(other),
    };
    expect((await refusal(service.issue(actor, request))).code).toBe('SUPPRESSED');
    await suppressions.release(staff(['suppressionRelease']), error.suppressionId, { reason: '調査終了' });
    await suppressions.set(setter, {
      target: { personNo: other },
      process: 'certificate',
      level: 'alert',
      startsOn: '2026-11-01',
      reason: '交付時に本人確認を厳格に',
    });
    expect((await refusal(service.issue(actor, request))).code).toBe('SUPPRESSION_CONFIRMATION_REQUIRED');
    const { issuance } = await service.issue(actor, { ...request, confirmed: true });
    const log = await searchAccessLog(handle.db, TEST_LG_CODE, { function: 'issuance', personNo: other });
    expect(log.entries[0]!.details).toMatchObject({
      issuanceId: issuance.issuanceId,
      suppressionAlertsConfirmed: 1,
    });
  });
});
