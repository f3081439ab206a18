/**
 * What the register shows to whom, and how every access is logged: item masking (個人番号, 住民票コード,
 * 本籍, residence-status items are hidden unless revealed by a permitted staff member), the facts monitoring
 * needs about a target, and the access-log entry written in the same transaction as the act.
 */
import { appendAccessLog, type AccessLogInput } from '../audit/index.js';
import type { Config } from '../config.js';
import { findProtectedPersons } from '../protection/index.js';
import {
  DomainError,
  PERMISSION_LABEL,
  normalizeForSearch,
  PersonNo,
  type Actor,
  type Clock,
  type Permission,
} from '../shared/index.js';
import type { Trx } from './resident.repository.js';
import type { ResidentRecord } from './resident.js';

/** What the register needs to write access-log entries. */
export interface AuditSettings {
  readonly clock: Clock;
  readonly monitoring: Config['monitoring'];
  /** Keyed-hash secret for search criteria, so the log never holds names or numbers in clear. */
  readonly criteriaKey: Buffer;
}

/** Items hidden by default, and the permission that lets a staff member reveal each. */
export const MASKABLE_ITEMS = {
  myNumber: 'myNumberView',
  residentCode: 'residentCodeView',
  honseki: 'honsekiView',
  residenceStatus: 'residenceStatusView',
} as const satisfies Record<string, Permission>;
export type MaskableItem = keyof typeof MASKABLE_ITEMS;
export const MASKABLE_ITEM_NAMES = Object.keys(MASKABLE_ITEMS) as MaskableItem[];

/**
 * A record as shown: hidden items are absent and listed in `masked`. The residence-status items of a
 * foreign resident keep only the category when hidden.
 */
export type RecordView = Omit<ResidentRecord, 'foreign'> & {
  foreign?: Omit<NonNullable<ResidentRecord['foreign']>, 'status'> & {
    status: Partial<NonNullable<ResidentRecord['foreign']>['status']> & { category: string };
  };
  masked: MaskableItem[];
};

/** Refuses to reveal an item the staff member may not see. */
export function checkReveal(actor: Actor, reveal: readonly MaskableItem[]): void {
  for (const item of reveal) {
    const permission = MASKABLE_ITEMS[item];
    if (!actor.permissions.has(permission)) {
      throw new DomainError(
        'FORBIDDEN_ITEM',
        `この項目を表示する権限がありません（必要な権限: ${PERMISSION_LABEL[permission]}）。`,
        { item },
      );
    }
  }
}

export function maskRecord(r: ResidentRecord, reveal: ReadonlySet<MaskableItem>): RecordView {
  const view: RecordView = { ...r, masked: [] };
  const hide = (item: MaskableItem, present: boolean, remove: () => void) => {
    if (!present || reveal.has(item)) return;
    remove();
    view.masked.push(item);
  };
  hide('myNumber', r.myNumber !== undefined, () => delete view.myNumber);
  hide('residentCode', r.residentCode !== undefined, () => delete view.residentCode);
  hide('honseki', r.honseki !== undefined, () => delete view.honseki);
  hide('residenceStatus', r.foreign !== undefined, () => {
    view.foreign = { ...r.foreign!, status: { category: r.foreign!.status.category } };
  });
  return view;
}

/** Facts about the targets that monitoring rules need, computed where the records are. */
export async function factsAbout(
  trx: Trx,
  actor: Actor,
  records: readonly ResidentRecord[],
  today: string,
): Promise<NonNullable<AccessLogInput['facts']>> {
  const protectedPersons = await findProtectedPersons(
    trx,
    actor.lgCode,
    records.map((r) => r.personNo),
    today,
  );
  const family = actor.profile?.familyName ? normalizeForSearch(actor.profile.familyName) : undefined;
  const address = actor.profile?.address ? normalizeForSearch(actor.profile.address) : undefined;
  const sameSurnameAndAddress =
    family !== undefined &&
    address !== undefined &&
    records.some(
      (r) =>
        r.name !== undefined &&
        normalizeForSearch(r.name.family) === family &&
        normalizeForSearch(r.address.text).startsWith(address),
    );
  return {
    supportMeasureSubject: protectedPersons.size > 0,
    supportMeasurePersons: [...protectedPersons],
    sameSurnameAndAddressAsOperator: sameSurnameAndAddress,
  };
}

/**
 * The persons a request names (`personNo`, `personNos`), for the log entry of a refused request: only
 * well-formed 宛名番号, never other input.
 */
export function targetsOf(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const r = raw as { personNo?: unknown; personNos?: unknown };
  const candidates = [r.personNo, ...(Array.isArray(r.personNos) ? (r.personNos as unknown[]) : [])];
  return candidates.filter((c): c is string => typeof c === 'string' && PersonNo.safeParse(c).success);
}

/** Writes the access-log entry of an act, in the act's own transaction. */
export async function logAccess(
  trx: Trx,
  audit: AuditSettings,
  actor: Actor,
  entry: Omit<AccessLogInput, 'lgCode' | 'staffId' | 'terminalId'>,
): Promise<void> {
  await appendAccessLog(
    trx,
    { lgCode: actor.lgCode, staffId: actor.staffId, terminalId: actor.terminalId, ...entry },
    { clock: audit.clock, monitoring: audit.monitoring },
  );
}
