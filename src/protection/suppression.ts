/**
 * Suppression (抑止): what it is, the inputs that set and release it, and the rule of when it is in force.
 * A suppression targets one person (宛名番号) or one household (世帯番号) for one process, at one level:
 * `error` blocks, `alert` warns and lets the clerk go on after confirming. It is in force from its start
 * date until it is released; its end date is informational only (shown as 期限経過), because lifting a
 * protection must be a deliberate act. A temporary release (一時解除) suspends it until its `until` instant
 * and then lapses by itself; it is not propagated to linked systems.
 */
import { z } from 'zod';
import { HouseholdNo, PersonNo, PlainDate } from '../shared/index.js';

export const SUPPRESSED_PROCESSES = ['change', 'certificate', 'inquiry'] as const;
export const SuppressedProcess = z.enum(SUPPRESSED_PROCESSES);
export type SuppressedProcess = z.infer<typeof SuppressedProcess>;

export const SUPPRESSION_LEVELS = ['error', 'alert'] as const;
export const SuppressionLevel = z.enum(SUPPRESSION_LEVELS);
export type SuppressionLevel = z.infer<typeof SuppressionLevel>;

export const PROCESS_LABEL: Readonly<Record<SuppressedProcess, string>> = {
  change: '異動',
  certificate: '証明書の交付',
  inquiry: '照会',
};

/** A suppression in force, as enforcement and display see it (no reason: that is for the officer). */
export interface SuppressionHit {
  suppressionId: number;
  personNo: string | null;
  householdNo: string | null;
  process: SuppressedProcess;
  level: SuppressionLevel;
  startsOn: string;
  endsOn: string | null;
  /** The end date has passed (期限経過); the suppression is still in force until released. */
  expired: boolean;
}

const Reason = z.string().trim().min(1).max(1000);

export const SuppressionTarget = z.union([
  z.strictObject({ personNo: PersonNo }),
  z.strictObject({ householdNo: HouseholdNo }),
]);

export const SetSuppressionInput = z
  .strictObject({
    target: SuppressionTarget,
    process: SuppressedProcess,
    level: SuppressionLevel,
    startsOn: PlainDate,
    endsOn: PlainDate.optional(),
    reason: Reason,
  })
  .refine((s) => s.endsOn === undefined || s.endsOn >= s.startsOn, {
    message: '終了日は開始日以降の日付を入力してください。',
    path: ['endsOn'],
    params: { code: 'INVALID_PERIOD' },
  });
export type SetSuppressionInput = z.input<typeof SetSuppressionInput>;

export const ReleaseInput = z.strictObject({ reason: Reason });
export type ReleaseInput = z.input<typeof ReleaseInput>;

export const SuppressionQuery = z.union([
  z.strictObject({ personNo: PersonNo }),
  z.strictObject({ householdNo: HouseholdNo }),
]);
/** One of the two, as a query string gives it (checked by the service). */
export type SuppressionQuery = { personNo?: string | undefined; householdNo?: string | undefined };

/** One suppression with its history, as the suppression officer sees it. */
export interface SuppressionView extends SuppressionHit {
  reason: string;
  setBy: string;
  setAt: Date;
  state: 'scheduled' | 'inForce' | 'temporarilyReleased' | 'released';
  temporarilyReleasedUntil: Date | null;
  releases: Array<{
    kind: 'release' | 'temporary';
    until: Date | null;
    reason: string;
    releasedBy: string;
    releasedAt: Date;
  }>;
}

/** Whether the end date has passed (the day after ends_on or later). */
export function isExpired(endsOn: string | null, today: string): boolean {
  return endsOn !== null && endsOn < today;
}
