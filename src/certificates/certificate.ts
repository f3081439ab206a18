/**
 * Certificates (証明書): what may be requested, by whom, with which items — schemas and pure rules.
 * Basic Resident Register Act art. 12 (the person or a member of the household), 12-2 (national and local
 * bodies for official duties), 12-3 (third parties with a legitimate reason they state). `domain.md` §7.
 */
import { z } from 'zod';
import { DomainError, PersonNo, HouseholdNo } from '../shared/index.js';

export const CERTIFICATE_TYPES = [
  'residentCopy',
  'removedRecordCopy',
  'itemCertificate',
  'moveOutCertificate',
] as const;
export const CertificateType = z.enum(CERTIFICATE_TYPES);
export type CertificateType = z.infer<typeof CertificateType>;

export const CERTIFICATE_TITLE: Readonly<Record<CertificateType, string>> = {
  residentCopy: '住民票の写し',
  removedRecordCopy: '除票の写し',
  itemCertificate: '住民票記載事項証明書',
  moveOutCertificate: '転出証明書',
};

/** The certification sentence (認証文) on the last page. */
export const CERTIFICATION_SENTENCE: Readonly<Record<CertificateType, string>> = {
  residentCopy: 'この写しは、住民票の原本と相違ないことを証明する。',
  removedRecordCopy: 'この写しは、除票の原本と相違ないことを証明する。',
  itemCertificate: '上記の事項は、住民票に記載されていることを証明する。',
  moveOutCertificate: '上記の者は、転出の届出をしたことを証明する。',
};

/**
 * Items left out of a certificate unless specifically requested (domain.md §7). `householdHead` is the
 * head's name and each person's relationship to the head (世帯主・続柄); the last five are foreign
 * residents' items (Act art. 30-45).
 */
export const CERTIFICATE_ITEMS = [
  'householdHead',
  'honseki',
  'residentCode',
  'myNumber',
  'nationality',
  'foreignCategory',
  'residenceStatus',
  'residenceCardNo',
  'aliasHistory',
] as const;
export const CertificateItem = z.enum(CERTIFICATE_ITEMS);
export type CertificateItem = z.infer<typeof CertificateItem>;

export const ITEM_LABEL: Readonly<Record<CertificateItem, string>> = {
  householdHead: '世帯主・続柄',
  honseki: '本籍・筆頭者',
  residentCode: '住民票コード',
  myNumber: '個人番号',
  nationality: '国籍・地域',
  foreignCategory: '第30条の45に規定する区分',
  residenceStatus: '在留資格・在留期間・在留期間の満了の日',
  residenceCardNo: '在留カード等の番号',
  aliasHistory: '通称の記載及び削除に関する事項',
};

/** Items only the person or a member of the household may obtain (Act art. 12-2 para. 4, 12-3 para. 7). */
const SELF_ONLY_ITEMS: readonly CertificateItem[] = ['myNumber', 'residentCode'];

const statedText = (max: number) => z.string().trim().max(max).optional();

/**
 * Who asks. `self`: the person or a member of their household, named by their own 宛名番号 (checked
 * against the subjects' household). `government`: a national or local body for official duties — body
 * and legal basis (公用, free of charge). `thirdParty`: anyone else, with the reason and purpose they state.
 */
export const Requester = z.discriminatedUnion('type', [
  z.object({ type: z.literal('self'), personNo: PersonNo }),
  z.object({
    type: z.literal('government'),
    body: statedText(100),
    legalBasis: statedText(200),
    officer: statedText(100),
  }),
  z.object({
    type: z.literal('thirdParty'),
    name: statedText(100),
    address: statedText(200),
    reason: statedText(500),
    purpose: statedText(200),
  }),
]);
export type Requester = z.infer<typeof Requester>;
export type RequesterType = Requester['type'];

export const REQUESTER_LABEL: Readonly<Record<RequesterType, string>> = {
  self: '本人・同一世帯員',
  government: '国・地方公共団体（公用）',
  thirdParty: '第三者',
};

/**
 * A request for a certificate. Either a whole household (its current members) or chosen persons of one
 * household. `confirmed` is the clerk's confirmation to go on past suppressions of level alert.
 */
export const CertificateRequest = z
  .object({
    type: CertificateType,
    householdNo: HouseholdNo.optional(),
    personNos: z.array(PersonNo).min(1).max(50).optional(),
    withHistory: z.boolean().default(false),
    items: z.array(CertificateItem).max(CERTIFICATE_ITEMS.length).default([]),
    requester: Requester,
    /** The printer at the counter (プリンタ), part of the issue number. */
    printerId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{1,16}$/)
      .default('P1'),
    confirmed: z.boolean().default(false),
  })
  .refine((r) => r.householdNo !== undefined || r.personNos !== undefined, {
    message: '世帯番号または宛名番号を指定してください',
    path: ['personNos'],
  });
export type CertificateRequest = z.infer<typeof CertificateRequest>;
export type CertificateRequestInput = z.input<typeof CertificateRequest>;

/** The requester's rules that need no record: stated reason, legal basis, items limited to the person. */
export function checkRequester(requester: Requester, items: readonly CertificateItem[]): void {
  if (requester.type !== 'self' && items.some((i) => SELF_ONLY_ITEMS.includes(i))) {
    throw new DomainError(
      'MY_NUMBER_ONLY_FOR_SELF',
      '個人番号・住民票コードを記載した証明書は、本人または同一世帯の方の請求に限り交付できます。記載を外して請求してください。',
    );
  }
  switch (requester.type) {
    case 'self':
      return;
    case 'government':
      if (!requester.body || !requester.legalBasis) {
        throw new DomainError(
          'LEGAL_BASIS_REQUIRED',
          '公用請求には、請求する機関の名称と法令上の根拠（事務の内容）を記入してください。',
        );
      }
      return;
    case 'thirdParty':
      if (!requester.name) {
        throw new DomainError(
          'REQUESTER_NAME_REQUIRED',
          '第三者請求には、請求者の氏名（名称）を記入してください。',
        );
      }
      if (!requester.reason || !requester.purpose) {
        throw new DomainError(
          'REASON_REQUIRED',
          '第三者請求には、請求の事由（正当な理由）と利用目的の記入が必要です。請求書の記載を確認してください。',
        );
      }
      return;
  }
}

/**
 * The self rule: the requester is one of the persons certified, or a current member of their household.
 */
export function checkHouseholdMember(
  requester: { personNo: string; householdNo: string; current: boolean },
  subjects: { personNos: readonly string[]; householdNo: string },
): void {
  if (subjects.personNos.includes(requester.personNo)) return;
  if (requester.current && requester.householdNo === subjects.householdNo) return;
  throw new DomainError(
    'NOT_A_HOUSEHOLD_MEMBER',
    '請求者はこの世帯の世帯員ではありません。本人等の請求としては交付できません（第三者請求または代理人による請求として受け付けてください）。',
  );
}

/** The subjects' statuses must fit the certificate type. */
export function checkSubjectsFitType(
  type: CertificateType,
  subjects: readonly { removed: boolean; movingOut: boolean }[],
): void {
  switch (type) {
    case 'removedRecordCopy':
      if (subjects.some((s) => !s.removed)) {
        throw new DomainError(
          'NOT_REMOVED',
          '消除されていない方が含まれています。現に住民である方は住民票の写しで請求してください。',
        );
      }
      return;
    case 'residentCopy':
    case 'itemCertificate':
      if (subjects.some((s) => s.removed)) {
        throw new DomainError(
          'REMOVED_RECORD',
          '消除された方（除票）が含まれています。除票の写しで請求してください。',
        );
      }
      return;
    case 'moveOutCertificate':
      if (subjects.some((s) => !s.movingOut)) {
        throw new DomainError(
          'NO_MOVE_OUT',
          '転出の届出がない方が含まれています。転出証明書は転出届をした方についてのみ作成できます。',
        );
      }
      return;
  }
}

/** A move-out certificate is handed to whoever made the move-out notification: the person or household. */
export function checkMoveOutRequester(type: CertificateType, requester: Requester): void {
  if (type === 'moveOutCertificate' && requester.type !== 'self') {
    throw new DomainError(
      'MOVE_OUT_ONLY_FOR_SELF',
      '転出証明書は、転出届をした本人または同一世帯の方にのみ交付できます。',
    );
  }
}

/** The fee in yen: the configured fee of the type; official requests (公用) are free. */
export function feeOf(
  type: CertificateType,
  requester: Requester,
  fees: Readonly<Record<string, number>>,
): number {
  if (requester.type === 'government') return 0;
  return fees[type] ?? 0;
}

/**
 * The issue number (発行番号) in domain.md's format `発行年月日 市区町村名 端末 プリンタ 連番`, to which each
 * page adds `頁/総頁`.
 */
export function issueNumberOf(p: {
  issuedOnLabel: string;
  municipality: string;
  terminalId: string;
  printerId: string;
  serial: number | undefined;
}): string {
  const serial = p.serial === undefined ? '見本' : String(p.serial).padStart(6, '0');
  return `${p.issuedOnLabel} ${p.municipality} ${p.terminalId} ${p.printerId} ${serial}`;
}
