/**
 * The one place where the staff module writes to the access log. Every sign-in, failure, sign-out,
 * ended session, permission change and administration act calls this inside the transaction of the act,
 * so the entry and the act commit or roll back together.
 */
import type { Transaction } from 'kysely';
import { appendAccessLog } from '../audit/index.js';
import type { Config } from '../config.js';
import type { Database } from '../db/index.js';
import type { Clock } from '../shared/index.js';

export type StaffAuditFunction =
  | 'login'
  | 'loginFailed'
  | 'logout'
  | 'secondFactorFailed'
  | 'sessionEnded'
  | 'permissionChange'
  | 'staffAdmin';

export interface StaffAuditEntry {
  readonly lgCode: string;
  /** The acting staff member; null when a sign-in names nobody we know. */
  readonly staffId: string | null;
  readonly terminalId: string;
  readonly function: StaffAuditFunction;
  readonly outcome: 'success' | 'refused' | 'failed';
  /** Ids, codes and counts only: never a name, password, secret or typed login name. */
  readonly details?: Record<string, unknown>;
}

export interface AuditContext {
  readonly clock: Clock;
  readonly monitoring: Config['monitoring'];
}

export async function recordStaffAct(
  trx: Transaction<Database>,
  entry: StaffAuditEntry,
  ctx: AuditContext,
): Promise<void> {
  await appendAccessLog(trx, entry, ctx);
}
