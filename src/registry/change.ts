/**
 * Changes (異動): their reasons, the input each change type takes, and the pure rules that turn a person's
 * current snapshot into the next one. Every change is one of three kinds — entry (記載), removal (消除),
 * correction (修正) — and records its reason, effective date, notification date and who made it.
 */
import { z } from 'zod';
import { DomainError } from '../shared/index.js';
import {
  Address,
  BenefitItems,
  DateInput,
  FlexDateInput,
  ForeignItems,
  Honseki,
  HouseholdNoInput,
  MyNumberInput,
  NameReading,
  PersonName,
  PersonNoInput,
  PreviousAddress,
  RelationshipInput,
  ResidenceCardNo,
  ResidentCodeInput,
  ResidentKind,
  Sex,
} from './resident.js';

export const ChangeKind = z.enum(['entry', 'removal', 'correction']);
export type ChangeKind = z.infer<typeof ChangeKind>;

/** 異動事由, grouped by kind as the standard groups them. */
export const REASONS = {
  domesticMoveIn: { kind: 'entry', label: '転入' },
  moveInFromAbroad: { kind: 'entry', label: '国外からの転入' },
  birth: { kind: 'entry', label: '出生' },
  exOfficioEntry: { kind: 'entry', label: '職権記載' },
  removalCancelled: { kind: 'entry', label: '消除の取消し（回復）' },
  domesticMoveOut: { kind: 'removal', label: '転出' },
  moveOutAbroad: { kind: 'removal', label: '国外への転出' },
  death: { kind: 'removal', label: '死亡' },
  exOfficioRemoval: { kind: 'removal', label: '職権消除' },
  entryCancelled: { kind: 'removal', label: '記載の取消し' },
  moveWithin: { kind: 'correction', label: '転居' },
  minorCorrection: { kind: 'correction', label: '軽微修正' },
  exOfficioCorrection: { kind: 'correction', label: '職権修正' },
  clericalErrorCorrection: { kind: 'correction', label: '誤記修正' },
  myNumberChangeOnRequest: { kind: 'correction', label: '個人番号の変更（請求）' },
  myNumberChangeExOfficio: { kind: 'correction', label: '個人番号の変更（職権）' },
  householdSplit: { kind: 'correction', label: '世帯分離' },
  householdMerge: { kind: 'correction', label: '世帯合併' },
  headChange: { kind: 'correction', label: '世帯主変更' },
  formerSurnameEntered: { kind: 'correction', label: '旧氏の記載' },
  formerSurnameDeleted: { kind: 'correction', label: '旧氏の削除' },
  aliasEntered: { kind: 'correction', label: '通称の記載' },
  aliasDeleted: { kind: 'correction', label: '通称の削除' },
  plannedMoveOut: { kind: 'correction', label: '転出予定' },
  moveInNoticeReceived: { kind: 'correction', label: '転入通知の受理' },
  correctionCancelled: { kind: 'correction', label: '修正の取消し' },
} as const satisfies Record<string, { kind: ChangeKind; label: string }>;

export type Reason = keyof typeof REASONS;
export const Reason = z.enum(Object.keys(REASONS) as [Reason, ...Reason[]]);

export function kindOf(reason: Reason): ChangeKind {
  return REASONS[reason].kind;
}

/** What every change asks of the clerk besides its own items. */
const ChangeCommon = {
  /** 異動日. Never in the future, except a move-out's planned date. */
  effectiveDate: DateInput,
  /** 届出日: absent for ex-officio changes. */
  notifiedOn: DateInput.optional(),
  notes: z.string().max(1000).optional(),
  /** The clerk saw the alert-level suppressions (抑止) on these persons and goes on. */
  confirmSuppression: z.boolean().optional(),
};

/** A person entering the register (move-in, birth, ex-officio entry). */
export const NewPersonInput = z.object({
  kind: ResidentKind.default('japanese'),
  name: PersonName.optional(),
  reading: NameReading,
  birthDate: FlexDateInput,
  sex: Sex,
  relationship: RelationshipInput,
  honseki: Honseki.optional(),
  myNumber: MyNumberInput.optional(),
  residentCode: ResidentCodeInput.optional(),
  benefits: BenefitItems.default({}),
  foreign: ForeignItems.optional(),
  remarks: z.string().max(1000).optional(),
});
export type NewPersonInput = z.input<typeof NewPersonInput>;

/** Where entering persons go: a new household, or an existing one they join. */
export const HouseholdTarget = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('new') }),
  z.object({ mode: z.literal('join'), householdNo: HouseholdNoInput }),
]);

export const MoveInInput = z.object({
  ...ChangeCommon,
  notifiedOn: DateInput,
  origin: z.enum(['domestic', 'abroad']),
  address: Address,
  previousAddress: PreviousAddress,
  household: HouseholdTarget,
  members: z.array(NewPersonInput).min(1).max(50),
});
export type MoveInInput = z.input<typeof MoveInInput>;

export const ExOfficioEntryInput = z.object({
  ...ChangeCommon,
  address: Address,
  previousAddress: PreviousAddress.optional(),
  household: HouseholdTarget,
  members: z.array(NewPersonInput).min(1).max(50),
});
export type ExOfficioEntryInput = z.input<typeof ExOfficioEntryInput>;

export const BirthInput = z.object({
  ...ChangeCommon,
  notifiedOn: DateInput,
  householdNo: HouseholdNoInput,
  child: NewPersonInput,
});
export type BirthInput = z.input<typeof BirthInput>;

/** A member's relationship to the head, re-set by household changes. */
export const MemberRelationship = z.object({ personNo: PersonNoInput, relationship: RelationshipInput });

/**
 * A move within the municipality. The whole household keeps its number (or takes a new one, as on a move
 * between wards of a designated city); some members moving must form a new household or join one, and the
 * members left behind get their relationships re-set when the head leaves them.
 */
export const MoveWithinInput = z.object({
  ...ChangeCommon,
  notifiedOn: DateInput,
  personNos: z.array(PersonNoInput).min(1).max(50),
  address: Address,
  household: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('same') }),
    z.object({ mode: z.literal('new'), relationships: z.array(MemberRelationship).min(1) }),
    z.object({
      mode: z.literal('join'),
      householdNo: HouseholdNoInput,
      relationships: z.array(MemberRelationship).min(1),
    }),
  ]),
  remainingRelationships: z.array(MemberRelationship).default([]),
});
export type MoveWithinInput = z.input<typeof MoveWithinInput>;

export const MoveOutInput = z.object({
  notes: z.string().max(1000).optional(),
  confirmSuppression: z.boolean().optional(),
  notifiedOn: DateInput,
  /** 転出予定日: may be in the future; the removal takes effect on it (or on the move-in date, if earlier). */
  plannedDate: DateInput,
  personNos: z.array(PersonNoInput).min(1).max(50),
  destination: PreviousAddress,
  /** Relationships of the members who stay, when the head leaves. */
  remainingRelationships: z.array(MemberRelationship).default([]),
});
export type MoveOutInput = z.input<typeof MoveOutInput>;

/** 転入通知: the new municipality reports the move-in date of a person who moved out. */
export const MoveInNoticeInput = z.object({
  personNo: PersonNoInput,
  moveInDate: DateInput,
  notes: z.string().max(1000).optional(),
  confirmSuppression: z.boolean().optional(),
});
export type MoveInNoticeInput = z.input<typeof MoveInNoticeInput>;

export const HouseholdSplitInput = z.object({
  ...ChangeCommon,
  householdNo: HouseholdNoInput,
  /** Members leaving to form the new household, with their relationships to its head. */
  members: z.array(MemberRelationship).min(1),
  remainingRelationships: z.array(MemberRelationship).default([]),
});
export type HouseholdSplitInput = z.input<typeof HouseholdSplitInput>;

export const HouseholdMergeInput = z.object({
  ...ChangeCommon,
  fromHouseholdNo: HouseholdNoInput,
  intoHouseholdNo: HouseholdNoInput,
  /** Every member of the merged household, and any member of the receiving one whose relationship changes. */
  relationships: z.array(MemberRelationship).min(1),
});
export type HouseholdMergeInput = z.input<typeof HouseholdMergeInput>;

export const HeadChangeInput = z.object({
  ...ChangeCommon,
  householdNo: HouseholdNoInput,
  /** Every current member with the relationship to the new head. */
  relationships: z.array(MemberRelationship).min(1),
});
export type HeadChangeInput = z.input<typeof HeadChangeInput>;

export const DeathInput = z.object({
  ...ChangeCommon,
  personNo: PersonNoInput,
  /** The date of death as in the notification; may be uncertain (e.g. 令和3年5月上旬). */
  deathDate: FlexDateInput,
});
export type DeathInput = z.input<typeof DeathInput>;

export const ExOfficioRemovalInput = z.object({
  ...ChangeCommon,
  personNo: PersonNoInput,
  /** The ground, e.g. 実態調査により居住の事実なし. */
  ground: z.string().trim().min(1).max(200),
  status: z.enum(['removedExOfficio', 'missing']).default('removedExOfficio'),
});
export type ExOfficioRemovalInput = z.input<typeof ExOfficioRemovalInput>;

/** The items a correction may change. Numbers, household and status have their own changes. */
export const RecordPatch = z
  .object({
    name: PersonName.optional(),
    reading: NameReading.optional(),
    birthDate: FlexDateInput.optional(),
    sex: Sex.optional(),
    honseki: Honseki.optional(),
    residentSince: DateInput.optional(),
    address: Address.optional(),
    addressSetOn: DateInput.optional(),
    previousAddress: PreviousAddress.optional(),
    residentCode: ResidentCodeInput.optional(),
    benefits: BenefitItems.optional(),
    foreign: ForeignItems.optional(),
    remarks: z.string().max(1000).optional(),
  })
  .strict();

export const CorrectionInput = z.object({
  ...ChangeCommon,
  personNo: PersonNoInput,
  kind: z.enum(['minorCorrection', 'clericalErrorCorrection', 'exOfficioCorrection']),
  patch: RecordPatch,
});
export type CorrectionInput = z.input<typeof CorrectionInput>;

export const MyNumberChangeInput = z.object({
  ...ChangeCommon,
  personNo: PersonNoInput,
  myNumber: MyNumberInput,
  basis: z.enum(['request', 'exOfficio']),
});
export type MyNumberChangeInput = z.input<typeof MyNumberChangeInput>;

export const FormerSurnameInput = z.discriminatedUnion('action', [
  z.object({
    ...ChangeCommon,
    action: z.literal('enter'),
    personNo: PersonNoInput,
    surname: z.string().trim().min(1).max(50),
    reading: z.string().trim().min(1).max(100),
  }),
  z.object({ ...ChangeCommon, action: z.literal('delete'), personNo: PersonNoInput }),
]);
export type FormerSurnameInput = z.input<typeof FormerSurnameInput>;

export const AliasInput = z.discriminatedUnion('action', [
  z.object({
    ...ChangeCommon,
    action: z.literal('enter'),
    personNo: PersonNoInput,
    name: z.string().trim().min(1).max(100),
    reading: z.string().trim().max(100).optional(),
  }),
  z.object({ ...ChangeCommon, action: z.literal('delete'), personNo: PersonNoInput }),
]);
export type AliasInput = z.input<typeof AliasInput>;

export const CancellationInput = z.object({
  changeId: z.coerce.number().int().positive(),
  confirmSuppression: z.boolean().optional(),
  notes: z.string().max(1000).optional(),
  notifiedOn: DateInput.optional(),
});
export type CancellationInput = z.input<typeof CancellationInput>;

export { ResidenceCardNo };

/** Refuses an effective date after today (a planned move-out is the one exception, handled apart). */
export function checkNotFuture(effectiveDate: string, today: string, what = '異動日'): void {
  if (effectiveDate > today) {
    throw new DomainError(
      'FUTURE_EFFECTIVE_DATE',
      `${what}に未来の日付は指定できません。本日以前の日付を入力してください（転出予定日を除く）。`,
    );
  }
}
