/**
 * Support measures (支援措置) for victims of DV, stalking and abuse: the application, the term rules and
 * the shapes the officer works with.
 *
 * Term: one year from the start day, the start day counted (民法143条): the term ends the day before the
 * start's corresponding day a year later — 2020-04-01 → 2021-03-31 — and, when that day does not exist
 * (a 2/29 start in a common year), at the end of that month: 2024-02-29 → 2025-02-28.
 *
 * Extension (延長): from one month before the end, read as the term's last month counted the same way —
 * the window opens on the day one month before the day after the end (end 2021-03-31 → opens 2021-03-01;
 * end 2025-02-28 → opens 2025-02-01) and closes on the end day itself. The new term starts the day after
 * the end and lasts another year by the same rule. After the end, a new application is needed.
 */
import { z } from 'zod';
import {
  LgCode,
  PersonNo,
  PlainDate,
  addDays,
  addMonths,
  dateParts,
  isLeapYear,
  plainDateOf,
} from '../shared/index.js';

export const BLOCKED_SERVICES = ['residentCopy', 'familyRegisterAttachment', 'kiosk'] as const;
export const BlockedService = z.enum(BLOCKED_SERVICES);
export type BlockedService = z.infer<typeof BlockedService>;

export const BLOCKED_SERVICE_LABEL: Readonly<Record<BlockedService, string>> = {
  residentCopy: '住民票の写し等の交付',
  familyRegisterAttachment: '戸籍の附票の写しの交付',
  kiosk: 'コンビニ交付',
};

export const SUPPORT_MEASURE_STATUSES = [
  'provisional',
  'active',
  'rejected',
  'ended',
  'transferred',
] as const;
export type SupportMeasureStatus = (typeof SUPPORT_MEASURE_STATUSES)[number];

export const STATUS_LABEL: Readonly<Record<SupportMeasureStatus, string>> = {
  provisional: '仮措置（審査中）',
  active: '支援中',
  rejected: '不支援（却下）',
  ended: '終了',
  transferred: '転出により引継ぎ',
};

/** The last day of a one-year term starting on `start`. */
export function termEndOf(start: PlainDate): PlainDate {
  const { year, month, day } = dateParts(start);
  if (month === 2 && day === 29 && !isLeapYear(year + 1)) return plainDateOf(year + 1, 2, 28);
  return addDays(plainDateOf(year + 1, month, day), -1);
}

/** The days on which an extension may be applied for: [opens, closes], both inclusive. */
export function extensionWindowOf(end: PlainDate): { opens: PlainDate; closes: PlainDate } {
  return { opens: addMonths(addDays(end, 1), -1), closes: end };
}

/** The term an extension gives: the year after the current end. */
export function extendedTermOf(end: PlainDate): { startsOn: PlainDate; endsOn: PlainDate } {
  const startsOn = addDays(end, 1);
  return { startsOn, endsOn: termEndOf(startsOn) };
}

const FreeText = (max: number) => z.string().trim().min(1).max(max);

export const Perpetrator = z.strictObject({
  name: FreeText(200),
  /** As known to the victim; may be partial, so free text rather than a date. */
  birthDate: FreeText(50).optional(),
  address: FreeText(500).optional(),
  notes: FreeText(4000).optional(),
});
export type Perpetrator = z.infer<typeof Perpetrator>;

export const ApplyInput = z
  .strictObject({
    applicant: z.strictObject({ personNo: PersonNo, relation: FreeText(200).optional() }),
    /** Others protected with the applicant (併せて支援を求める者), e.g. children. */
    protectedPersons: z
      .array(z.strictObject({ personNo: PersonNo, relation: FreeText(200).optional() }))
      .max(20)
      .default([]),
    perpetrator: Perpetrator,
    blockedServices: z.array(BlockedService).min(1).max(BLOCKED_SERVICES.length),
    /** The kind of harm and circumstances (DV, stalking, abuse …). */
    reason: FreeText(4000),
    /** The day of the application (申出日); the provisional measure runs from it. Today when omitted. */
    appliedOn: PlainDate.optional(),
  })
  .refine(
    (a) =>
      new Set([a.applicant.personNo, ...a.protectedPersons.map((p) => p.personNo)]).size ===
      1 + a.protectedPersons.length,
    {
      message: '同じ宛名番号が重複しています。',
      path: ['protectedPersons'],
      params: { code: 'DUPLICATE_PERSON' },
    },
  );
export type ApplyInput = z.input<typeof ApplyInput>;

export const DecideInput = z.strictObject({
  /** First day of the one-year term (支援開始日); today when omitted. */
  startsOn: PlainDate.optional(),
});
export type DecideInput = z.input<typeof DecideInput>;

export const RejectInput = z.strictObject({ reason: FreeText(1000).optional() });
export type RejectInput = z.input<typeof RejectInput>;

/** The termination notice (終了通知) takes effect on the day it is recorded. */
export const TerminateInput = z.strictObject({});
export type TerminateInput = z.input<typeof TerminateInput>;

export const TransferInput = z.strictObject({
  destinationLgCode: LgCode,
  transferredOn: PlainDate.optional(),
});
export type TransferInput = z.input<typeof TransferInput>;

export const CaseReleaseInput = z.strictObject({ reason: FreeText(1000) });
export type CaseReleaseInput = z.input<typeof CaseReleaseInput>;

/** What a measure is, without its details: safe for lists (numbers and dates only). */
export interface SupportMeasureSummary {
  measureId: number;
  status: SupportMeasureStatus;
  applicantPersonNo: string;
  protectedPersonNos: string[];
  startsOn: string;
  endsOn: string;
  appliedOn: string | null;
  decidedOn: string | null;
  closedOn: string | null;
  transferredTo: string | null;
  blockedServices: BlockedService[];
}

/** The details only the support-measures officer sees. */
export interface SupportMeasureDetails extends SupportMeasureSummary {
  applicantRelation: string | null;
  protectedPersons: Array<{ personNo: string; relation: string | null }>;
  perpetrator: Perpetrator;
  reason: string;
  events: Array<{
    kind: string;
    onDate: string;
    startsOn: string | null;
    endsOn: string | null;
    transferredTo: string | null;
    staffId: string;
    recordedAt: Date;
  }>;
  caseReleases: Array<{
    releaseId: number;
    reason: string;
    releasedBy: string;
    releasedAt: Date;
    usedAt: Date | null;
    issuanceRef: string | null;
  }>;
}

/** A measure whose end is near (endingSoon) or has passed without extension (ended). */
export interface SupportMeasureDeadline {
  measureId: number;
  applicantPersonNo: string;
  status: 'provisional' | 'active';
  endsOn: string;
  kind: 'endingSoon' | 'ended';
  /** Days from today to the end (negative after it). */
  daysLeft: number;
  extensionOpensOn: string;
}

/** The case details stored encrypted in one value. */
export const CaseDetails = z.object({
  reason: z.string(),
  applicantRelation: z.string().nullable(),
  protectedPersons: z.array(z.object({ personNo: z.string(), relation: z.string().nullable() })),
  blockedServices: z.array(BlockedService),
});
export type CaseDetails = z.infer<typeof CaseDetails>;
