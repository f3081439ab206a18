/**
 * The full set (一括抽出) for other business systems of the municipality (tax, insurance, welfare):
 * the file format and the pure mapping of a record to one line.
 *
 * The file is NDJSON (one JSON object per line, UTF-8, the register's characters as stored), gzip-
 * compressed: a header line, one line per person in 宛名番号 order, and an end line with the count (a
 * receiver that does not find the end line has a truncated file). The items are those a business system
 * needs to address and identify a person (Act art. 7 items other than 本籍, the benefit items and
 * remarks), with the suppression flags in force and whether the person is protected by a support
 * measure, so the receiving system can refuse or warn as the register does. The 個人番号 is present
 * only in an export made with it, by a staff member allowed to see it.
 */
import { z } from 'zod';
import { ResidentRecord } from '../registry/index.js';
import type { SuppressedProcess, SuppressionLevel } from '../protection/index.js';
import { PlainDate } from '../shared/index.js';

export const FULL_SET_FORMAT = 'jumin.fullSet.v1';

export const FullSetHeader = z.object({
  type: z.literal('header'),
  format: z.literal(FULL_SET_FORMAT),
  lgCode: z.string().regex(/^\d{6}$/),
  /** The day the suppression and support-measure flags were evaluated (the export's day). */
  asOf: PlainDate,
  includeRemoved: z.boolean(),
  withMyNumber: z.boolean(),
});
export type FullSetHeader = z.infer<typeof FullSetHeader>;

/** A suppression in force on the person, or on the person's household. */
export const FullSetSuppression = z.object({
  scope: z.enum(['person', 'household']),
  process: z.enum(['change', 'certificate', 'inquiry']),
  level: z.enum(['error', 'alert']),
  startsOn: PlainDate,
  endsOn: PlainDate.optional(),
});
export type FullSetSuppression = z.infer<typeof FullSetSuppression>;

export const FullSetPerson = ResidentRecord.pick({
  personNo: true,
  householdNo: true,
  householdOrder: true,
  relationship: true,
  kind: true,
  status: true,
  name: true,
  reading: true,
  formerSurname: true,
  birthDate: true,
  sex: true,
  address: true,
  addressSetOn: true,
  residentSince: true,
  notifiedOn: true,
  previousAddress: true,
  plannedMoveOut: true,
  removal: true,
  residentCode: true,
  myNumber: true,
  foreign: true,
}).extend({
  type: z.literal('person'),
  suppressions: z.array(FullSetSuppression),
  /** Protected by a support measure (支援措置) in force: treat address and certificates with care. */
  supportMeasure: z.boolean(),
});
export type FullSetPerson = z.infer<typeof FullSetPerson>;

export const FullSetEnd = z.object({ type: z.literal('end'), persons: z.number().int().min(0) });
export type FullSetEnd = z.infer<typeof FullSetEnd>;

export const FullSetLine = z.discriminatedUnion('type', [FullSetHeader, FullSetPerson, FullSetEnd]);
export type FullSetLine = z.infer<typeof FullSetLine>;

/** A suppression as the protection module reports it in force. */
export interface SuppressionInForce {
  personNo: string | null;
  householdNo: string | null;
  process: SuppressedProcess;
  level: SuppressionLevel;
  startsOn: string;
  endsOn: string | null;
}

/**
 * One person's line. Keys in a fixed order and absent items left out, so the same register gives the
 * same bytes. The 個人番号 is copied only when `withMyNumber` (the record carries it only then anyway).
 */
export function toFullSetPerson(
  r: ResidentRecord,
  protection: { suppressions: readonly SuppressionInForce[]; supportMeasure: boolean },
  withMyNumber: boolean,
): FullSetPerson {
  const suppressions = protection.suppressions
    .map((s): FullSetSuppression => ({
      scope: s.personNo !== null ? 'person' : 'household',
      process: s.process,
      level: s.level,
      startsOn: s.startsOn as PlainDate,
      ...(s.endsOn !== null ? { endsOn: s.endsOn as PlainDate } : {}),
    }))
    .sort(compareSuppressions);
  return {
    type: 'person',
    personNo: r.personNo,
    householdNo: r.householdNo,
    householdOrder: r.householdOrder,
    relationship: r.relationship,
    kind: r.kind,
    status: r.status,
    ...(r.name !== undefined ? { name: r.name } : {}),
    reading: r.reading,
    ...(r.formerSurname !== undefined ? { formerSurname: r.formerSurname } : {}),
    birthDate: r.birthDate,
    sex: r.sex,
    address: r.address,
    addressSetOn: r.addressSetOn,
    residentSince: r.residentSince,
    notifiedOn: r.notifiedOn,
    ...(r.previousAddress !== undefined ? { previousAddress: r.previousAddress } : {}),
    ...(r.plannedMoveOut !== undefined ? { plannedMoveOut: r.plannedMoveOut } : {}),
    ...(r.removal !== undefined ? { removal: r.removal } : {}),
    ...(r.residentCode !== undefined ? { residentCode: r.residentCode } : {}),
    ...(withMyNumber && r.myNumber !== undefined ? { myNumber: r.myNumber } : {}),
    ...(r.foreign !== undefined ? { foreign: r.foreign } : {}),
    suppressions,
    supportMeasure: protection.supportMeasure,
  };
}

function compareSuppressions(a: FullSetSuppression, b: FullSetSuppression): number {
  const ka = `${a.scope}|${a.process}|${a.level}|${a.startsOn}|${a.endsOn ?? ''}`;
  const kb = `${b.scope}|${b.process}|${b.level}|${b.startsOn}|${b.endsOn ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** One NDJSON line. */
export function fullSetLine(line: FullSetLine): string {
  return `${JSON.stringify(line)}\n`;
}
