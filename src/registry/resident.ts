/**
 * The resident record (住民票) and its items, as schemas and pure rules. Every statutory item of the
 * Basic Resident Register Act art. 7 (Japanese residents) and art. 30-45 (foreign residents) has a place
 * here; `domain.md` §2 lists them. Schemas and their types share one name.
 */
import { z } from 'zod';
import {
  DomainError,
  FlexDate,
  HouseholdNo,
  LgCode,
  MyNumber,
  PersonNo,
  PlainDate,
  Relationship,
  ResidentCode,
  isHead,
  parseFlexDate,
  parseHouseholdNo,
  parseLgCode,
  parseMyNumber,
  parsePersonNo,
  parsePlainDate,
  parseRelationship,
  parseResidentCode,
} from '../shared/index.js';

/**
 * A string parsed by one of the kernel's parse functions. A refusal keeps the kernel's code and Japanese
 * message, so that the HTTP layer can answer with them.
 */
function coded<T>(parse: (s: string) => T) {
  return z.string().transform((s, ctx): T => {
    try {
      return parse(s);
    } catch (e) {
      if (e instanceof DomainError) {
        ctx.addIssue({ code: 'custom', message: e.message, params: { code: e.code } });
        return z.NEVER;
      }
      throw e;
    }
  });
}

/** Dates as a clerk types them: `2024-04-01`, `R6.4.1`, `令和6年4月1日`. */
export const DateInput = coded(parsePlainDate);
/** Dates that may be uncertain or non-calendar (birth, death). */
export const FlexDateInput = z.union([FlexDate, coded(parseFlexDate)]);
export const MyNumberInput = coded(parseMyNumber);
export const ResidentCodeInput = coded(parseResidentCode);
export const PersonNoInput = coded(parsePersonNo);
export const HouseholdNoInput = coded(parseHouseholdNo);
export const LgCodeInput = coded(parseLgCode);
export const RelationshipInput = coded(parseRelationship);

const text = (max: number) => z.string().trim().min(1).max(max);

export const ResidentKind = z.enum(['japanese', 'foreign']);
export type ResidentKind = z.infer<typeof ResidentKind>;

/**
 * `current` persons are on the register (including those with a planned move-out not yet effective); every
 * other status is a removed record (除票), still searchable and certifiable.
 */
export const ResidentStatus = z.enum([
  'current',
  'movedOut',
  'dead',
  'missing',
  'removedExOfficio',
  'entryCancelled',
]);
export type ResidentStatus = z.infer<typeof ResidentStatus>;

export const STATUS_LABEL: Readonly<Record<ResidentStatus, string>> = {
  current: '住民',
  movedOut: '転出',
  dead: '死亡',
  missing: '失踪',
  removedExOfficio: '職権消除',
  entryCancelled: '記載取消',
};

export function isRemoved(status: ResidentStatus): boolean {
  return status !== 'current';
}

export const Sex = z.enum(['male', 'female']);
export type Sex = z.infer<typeof Sex>;

/** 氏名. A foreign resident without a kanji name leaves it out and is named by `foreign.latinName`. */
export const PersonName = z.object({ family: text(50), given: z.string().trim().max(50).default('') });
export type PersonName = z.infer<typeof PersonName>;

/**
 * 氏名の振り仮名 (since 2025-05): the reading, and whether it has been certified from the family register.
 * Until certified it is shown as not yet certified.
 */
export const NameReading = z.object({
  family: text(100),
  given: z.string().trim().max(100).default(''),
  status: z.enum(['certified', 'notCertified']).default('notCertified'),
});
export type NameReading = z.infer<typeof NameReading>;

export const Address = z.object({
  /** 住所コード: the municipality's address code for the block. */
  code: z
    .string()
    .regex(/^\d{1,20}$/)
    .optional(),
  postalCode: z
    .string()
    .regex(/^\d{3}-?\d{4}$/)
    .optional(),
  /** Address up to the lot number, e.g. 架空市中央区本町一丁目2番3号. */
  text: text(200),
  /** 方書: building, room, c/o. */
  katagaki: z.string().trim().max(100).optional(),
});
export type Address = z.infer<typeof Address>;

/** The previous address (前住所), which may be abroad. */
export const PreviousAddress = z.object({
  text: text(200),
  abroad: z.boolean().default(false),
});
export type PreviousAddress = z.infer<typeof PreviousAddress>;

/** 本籍 and 筆頭者: may be none (e.g. a foundling's) or unknown. */
export const Honseki = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('registered'), address: text(200), familyRegisterHead: text(100) }),
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('unknown') }),
]);
export type Honseki = z.infer<typeof Honseki>;

/** 旧氏 with its reading (Japanese residents, on request). */
export const FormerSurname = z.object({ surname: text(50), reading: text(100), enteredOn: PlainDate });
export type FormerSurname = z.infer<typeof FormerSurname>;

/** 通称 (foreign residents): entered with a date and the municipality that entered it. */
export const Alias = z.object({
  name: text(100),
  reading: z.string().trim().max(100).optional(),
  enteredOn: PlainDate,
  enteredBy: LgCode,
});
export type Alias = z.infer<typeof Alias>;

export const AliasHistoryEntry = Alias.extend({
  deletedOn: PlainDate.optional(),
  deletedBy: LgCode.optional(),
});
export type AliasHistoryEntry = z.infer<typeof AliasHistoryEntry>;

/** 在留カード番号: two letters, eight digits, two letters. */
export const ResidenceCardNo = z
  .string()
  .trim()
  .transform((s) => s.normalize('NFKC').toUpperCase())
  .pipe(
    z
      .string()
      .regex(/^[A-Z]{2}\d{8}[A-Z]{2}$/, '在留カード番号は英字2桁・数字8桁・英字2桁で入力してください。'),
  );

/** The art. 30-45 category of a foreign resident, with the items each category carries. */
export const ForeignCategory = z.discriminatedUnion('category', [
  /** 中長期在留者 */
  z.object({
    category: z.literal('midLongTerm'),
    residenceStatus: text(50),
    periodOfStay: text(30),
    expiryDate: PlainDate,
    residenceCardNo: ResidenceCardNo,
  }),
  /** 特別永住者 */
  z.object({ category: z.literal('specialPermanent'), certificateNo: ResidenceCardNo }),
  /** 一時庇護許可者 */
  z.object({ category: z.literal('temporaryRefuge'), permittedOn: PlainDate, expiryDate: PlainDate }),
  /** 仮滞在許可者 */
  z.object({ category: z.literal('provisionalStay'), permittedOn: PlainDate, expiryDate: PlainDate }),
  /** 経過滞在者: born in Japan or lost Japanese nationality, within 60 days */
  z.object({
    category: z.literal('transitionalStay'),
    cause: z.enum(['birth', 'nationalityLoss']),
    since: PlainDate,
  }),
]);
export type ForeignCategory = z.infer<typeof ForeignCategory>;

export const ForeignItems = z.object({
  latinName: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .transform((s) => s.normalize('NFKC').toUpperCase().replace(/\s+/g, ' ')),
  /** 国籍・地域 */
  nationality: text(50),
  /** 外国人住民となった年月日 */
  foreignResidentSince: PlainDate,
  status: ForeignCategory,
  alias: Alias.optional(),
  aliasHistory: z.array(AliasHistoryEntry).default([]),
});
export type ForeignItems = z.infer<typeof ForeignItems>;

const Period = z.object({ acquiredOn: PlainDate.optional(), lostOn: PlainDate.optional() });

/** Items other laws place on the resident record (Act art. 7 items 10-11-2). */
export const BenefitItems = z.object({
  /** 選挙人名簿登録 (Japanese residents only). */
  electoralRoll: z.object({ registered: z.boolean(), registeredOn: PlainDate.optional() }).optional(),
  /** 国民健康保険 */
  nationalHealthInsurance: Period.extend({ insured: z.boolean() }).optional(),
  /** 後期高齢者医療 */
  lateStageElderlyCare: Period.extend({ insured: z.boolean() }).optional(),
  /** 介護保険 */
  longTermCare: Period.extend({ insured: z.boolean() }).optional(),
  /** 国民年金: 種別 (第1号/第3号/任意), 基礎年金番号 */
  nationalPension: Period.extend({
    type: z.enum(['category1', 'category3', 'voluntary']),
    basicPensionNo: z
      .string()
      .regex(/^\d{10}$/)
      .optional(),
  }).optional(),
  /** 児童手当 */
  childAllowance: z
    .object({ receiving: z.boolean(), startedOn: PlainDate.optional(), endedOn: PlainDate.optional() })
    .optional(),
});
export type BenefitItems = z.infer<typeof BenefitItems>;

/** A planned move-out: the person stays current until the removal takes effect. */
export const PlannedMoveOut = z.object({
  plannedDate: PlainDate,
  destination: PreviousAddress,
  notifiedOn: PlainDate,
  /** The move-in date reported by the new municipality (転入通知), once received. */
  moveInNoticeDate: PlainDate.optional(),
});
export type PlannedMoveOut = z.infer<typeof PlannedMoveOut>;

/** Why and when a person left the register. */
export const Removal = z.object({
  reason: z.string(),
  effectiveDate: PlainDate,
  /** Death: the date as written, possibly uncertain. */
  deathDate: FlexDate.optional(),
  destination: PreviousAddress.optional(),
});
export type Removal = z.infer<typeof Removal>;

/** A full snapshot of one person's record: what each 履歴番号 holds. */
export const ResidentRecord = z.object({
  personNo: PersonNo,
  kind: ResidentKind,
  status: ResidentStatus,
  name: PersonName.optional(),
  reading: NameReading,
  formerSurname: FormerSurname.optional(),
  birthDate: FlexDate,
  sex: Sex,
  householdNo: HouseholdNo,
  householdOrder: z.number().int().min(1),
  relationship: Relationship,
  honseki: Honseki.optional(),
  /** 住民となった年月日 */
  residentSince: PlainDate,
  address: Address,
  /** 住所を定めた年月日 */
  addressSetOn: PlainDate,
  /** 届出の年月日 of the latest move-in or move */
  notifiedOn: PlainDate,
  previousAddress: PreviousAddress.optional(),
  myNumber: MyNumber.optional(),
  residentCode: ResidentCode.optional(),
  benefits: BenefitItems.default({}),
  foreign: ForeignItems.optional(),
  plannedMoveOut: PlannedMoveOut.optional(),
  removal: Removal.optional(),
  remarks: z.string().max(1000).optional(),
});
export type ResidentRecord = z.infer<typeof ResidentRecord>;

/**
 * Items that belong to one kind of resident only. A Japanese resident has no foreign-resident items
 * (art. 30-45) and no alias; a foreign resident has no 本籍, no electoral item and no 旧氏.
 */
export function checkKindItems(
  r: Pick<ResidentRecord, 'kind' | 'foreign' | 'honseki' | 'benefits' | 'formerSurname' | 'name'>,
): void {
  if (r.kind === 'japanese') {
    if (r.foreign) {
      throw new DomainError(
        'FOREIGN_ITEM_ON_JAPANESE',
        '日本人住民に外国人住民の項目（国籍・在留資格・通称など）は記載できません。住民の種別を確認してください。',
      );
    }
    if (!r.name) {
      throw new DomainError('NAME_REQUIRED', '日本人住民には氏名（漢字等）の記載が必要です。');
    }
  } else {
    if (!r.foreign) {
      throw new DomainError(
        'FOREIGN_ITEMS_REQUIRED',
        '外国人住民には国籍・地域、外国人住民となった年月日、在留資格等の区分の記載が必要です。',
      );
    }
    if (r.honseki) {
      throw new DomainError('JAPANESE_ITEM_ON_FOREIGN', '外国人住民に本籍・筆頭者は記載できません。');
    }
    if (r.benefits.electoralRoll) {
      throw new DomainError('JAPANESE_ITEM_ON_FOREIGN', '外国人住民に選挙人名簿の登録は記載できません。');
    }
    if (r.formerSurname) {
      throw new DomainError(
        'JAPANESE_ITEM_ON_FOREIGN',
        '外国人住民に旧氏は記載できません（通称をご利用ください）。',
      );
    }
  }
}

/** The name shown on screens and certificates: kanji name, or the Latin name of a foreign resident. */
export function displayName(r: Pick<ResidentRecord, 'name' | 'foreign'>): string {
  if (r.name) return r.name.given ? `${r.name.family}　${r.name.given}` : r.name.family;
  return r.foreign?.latinName ?? '';
}

export function displayReading(r: Pick<ResidentRecord, 'reading'>): string {
  return r.reading.given ? `${r.reading.family}　${r.reading.given}` : r.reading.family;
}

export function formatAddress(a: Address): string {
  return a.katagaki ? `${a.text}　${a.katagaki}` : a.text;
}

export { isHead };
