/**
 * Queries of staff accounts, grants and sessions. Rows stay in this module: the services map them to
 * domain types. Every query names the municipality, so one municipality's rows never answer another's.
 */
import { sql, type Selectable, type Transaction } from 'kysely';
import type { Database, Db } from '../db/index.js';
import type { StaffSessionTable, StaffTable } from '../db/schema.js';
import type { SessionEndReason } from './staff.js';

export type Trx = Transaction<Database>;
type Executor = Db | Trx;

export type StaffRow = Selectable<StaffTable>;
export type SessionRow = Selectable<StaffSessionTable>;

export async function municipalityExists(db: Executor, lgCode: string): Promise<boolean> {
  const row = await db
    .selectFrom('municipality')
    .select('lg_code')
    .where('lg_code', '=', lgCode)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findStaffByLogin(
  db: Executor,
  lgCode: string,
  loginName: string,
): Promise<StaffRow | undefined> {
  return db
    .selectFrom('staff')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('login_name', '=', loginName)
    .executeTakeFirst();
}

export async function findStaff(
  db: Executor,
  lgCode: string,
  staffId: string,
): Promise<StaffRow | undefined> {
  return db
    .selectFrom('staff')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .executeTakeFirst();
}

/** Locks the account row for the rest of the transaction (serialises attempts on one account). */
export async function findStaffForUpdate(
  trx: Trx,
  lgCode: string,
  staffId: string,
): Promise<StaffRow | undefined> {
  return trx
    .selectFrom('staff')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .forUpdate()
    .executeTakeFirst();
}

export async function listStaffRows(db: Executor, lgCode: string): Promise<StaffRow[]> {
  return db.selectFrom('staff').selectAll().where('lg_code', '=', lgCode).orderBy('login_name').execute();
}

export async function insertStaff(
  trx: Trx,
  row: Omit<StaffRow, 'failed_attempts' | 'locked_at' | 'disabled_at' | 'totp_last_step'>,
): Promise<void> {
  await trx.insertInto('staff').values(row).execute();
}

/** Counts one failed attempt; locks the account when the count reaches `threshold`. */
export async function recordFailedAttempt(
  trx: Trx,
  lgCode: string,
  staffId: string,
  threshold: number,
  now: Date,
): Promise<{ failedAttempts: number; locked: boolean }> {
  const row = await trx
    .updateTable('staff')
    .set({
      failed_attempts: sql<number>`failed_attempts + 1`,
      locked_at: sql<Date>`CASE WHEN failed_attempts + 1 >= ${threshold} THEN coalesce(locked_at, ${now}) ELSE locked_at END`,
    })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .returning(['failed_attempts', 'locked_at'])
    .executeTakeFirstOrThrow();
  return { failedAttempts: row.failed_attempts, locked: row.locked_at !== null };
}

export async function resetFailedAttempts(trx: Trx, lgCode: string, staffId: string): Promise<void> {
  await trx
    .updateTable('staff')
    .set({ failed_attempts: 0 })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .execute();
}

/**
 * Records `step` as the last TOTP step used, only if it is later than the last one: false means the
 * code (or an earlier one) was already used — a replay.
 */
export async function claimTotpStep(
  trx: Trx,
  lgCode: string,
  staffId: string,
  step: number,
): Promise<boolean> {
  const result = await trx
    .updateTable('staff')
    .set({ totp_last_step: step })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function unlockStaff(trx: Trx, lgCode: string, staffId: string): Promise<boolean> {
  const result = await trx
    .updateTable('staff')
    .set({ locked_at: null, failed_attempts: 0 })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function disableStaff(trx: Trx, lgCode: string, staffId: string, now: Date): Promise<void> {
  await trx
    .updateTable('staff')
    .set({ disabled_at: now })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .where('disabled_at', 'is', null)
    .execute();
}

export async function setPasswordHash(
  trx: Trx,
  lgCode: string,
  staffId: string,
  hash: string,
): Promise<void> {
  await trx
    .updateTable('staff')
    .set({ password_hash: hash })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .execute();
}

// ---------------------------------------------------------------------------------------------------
// Grants

export async function permissionsOf(db: Executor, lgCode: string, staffId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('staff_permission')
    .select('permission')
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .orderBy('permission')
    .execute();
  return rows.map((r) => r.permission);
}

export async function permissionsByStaff(db: Executor, lgCode: string): Promise<Map<string, string[]>> {
  const rows = await db
    .selectFrom('staff_permission')
    .select(['staff_id', 'permission'])
    .where('lg_code', '=', lgCode)
    .orderBy('permission')
    .execute();
  const map = new Map<string, string[]>();
  for (const r of rows) map.set(r.staff_id, [...(map.get(r.staff_id) ?? []), r.permission]);
  return map;
}

/** Grants what is not yet granted; returns the permissions actually added. */
export async function grantPermissions(
  trx: Trx,
  lgCode: string,
  staffId: string,
  permissions: readonly string[],
  grantedBy: string,
  now: Date,
): Promise<string[]> {
  if (permissions.length === 0) return [];
  const rows = await trx
    .insertInto('staff_permission')
    .values(
      permissions.map((permission) => ({
        lg_code: lgCode,
        staff_id: staffId,
        permission,
        granted_by: grantedBy,
        granted_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['lg_code', 'staff_id', 'permission']).doNothing())
    .returning('permission')
    .execute();
  return rows.map((r) => r.permission);
}

/** Revokes what is granted; returns the permissions actually removed. */
export async function revokePermissions(
  trx: Trx,
  lgCode: string,
  staffId: string,
  permissions: readonly string[],
): Promise<string[]> {
  if (permissions.length === 0) return [];
  const rows = await trx
    .deleteFrom('staff_permission')
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .where('permission', 'in', permissions)
    .returning('permission')
    .execute();
  return rows.map((r) => r.permission);
}

// ---------------------------------------------------------------------------------------------------
// Sessions

export async function insertSession(
  trx: Trx,
  row: Omit<SessionRow, 'ended_at' | 'end_reason'>,
): Promise<void> {
  await trx.insertInto('staff_session').values(row).execute();
}

/** A session with its account, by the hash of its cookie value. */
export async function findSessionWithStaff(db: Executor, sessionHash: string) {
  return db
    .selectFrom('staff_session as s')
    .innerJoin('staff as f', (j) =>
      j.onRef('f.lg_code', '=', 's.lg_code').onRef('f.staff_id', '=', 's.staff_id'),
    )
    .select([
      's.session_id_hash',
      's.lg_code',
      's.staff_id',
      's.state',
      's.csrf_token',
      's.terminal_id',
      's.created_at',
      's.last_seen_at',
      's.expires_at',
      'f.display_name',
      'f.family_name',
      'f.address',
      'f.totp_secret',
      'f.locked_at',
      'f.disabled_at',
      // The staff member's permissions in the same round trip: a session is resolved on every API call.
      (eb) =>
        eb
          .selectFrom('staff_permission as p')
          .select(
            sql<string[]>`coalesce(array_agg(p.permission ORDER BY p.permission), '{}')`.as('permissions'),
          )
          .whereRef('p.lg_code', '=', 's.lg_code')
          .whereRef('p.staff_id', '=', 's.staff_id')
          .$asScalar()
          .as('permissions'),
    ])
    .where('s.session_id_hash', '=', sessionHash)
    .executeTakeFirst();
}
export type SessionWithStaffRow = NonNullable<Awaited<ReturnType<typeof findSessionWithStaff>>>;

export async function touchSession(trx: Executor, sessionHash: string, now: Date): Promise<void> {
  await trx
    .updateTable('staff_session')
    .set({ last_seen_at: now })
    .where('session_id_hash', '=', sessionHash)
    .where('state', '=', 'active')
    .execute();
}

/** Ends one open session; false when it was not open (already ended by someone else). */
export async function endSession(
  trx: Trx,
  lgCode: string,
  sessionHash: string,
  reason: SessionEndReason,
  now: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('staff_session')
    .set({ state: 'ended', ended_at: now, end_reason: reason })
    .where('lg_code', '=', lgCode)
    .where('session_id_hash', '=', sessionHash)
    .where('state', '<>', 'ended')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Ends every open session of one staff member; returns their ids. */
export async function endSessionsOf(
  trx: Trx,
  lgCode: string,
  staffId: string,
  reason: SessionEndReason,
  now: Date,
): Promise<string[]> {
  const rows = await trx
    .updateTable('staff_session')
    .set({ state: 'ended', ended_at: now, end_reason: reason })
    .where('lg_code', '=', lgCode)
    .where('staff_id', '=', staffId)
    .where('state', '<>', 'ended')
    .returning('session_id_hash')
    .execute();
  return rows.map((r) => r.session_id_hash);
}

export async function findOpenSession(db: Executor, lgCode: string, sessionHash: string) {
  return db
    .selectFrom('staff_session')
    .select(['session_id_hash', 'staff_id', 'state', 'terminal_id'])
    .where('lg_code', '=', lgCode)
    .where('session_id_hash', '=', sessionHash)
    .where('state', '<>', 'ended')
    .executeTakeFirst();
}

/** Open sessions of a municipality, not timed out (seen after `idleCutoff`, before their end), newest first. */
export async function listOpenSessions(db: Executor, lgCode: string, now: Date, idleCutoff: Date) {
  return db
    .selectFrom('staff_session as s')
    .innerJoin('staff as f', (j) =>
      j.onRef('f.lg_code', '=', 's.lg_code').onRef('f.staff_id', '=', 's.staff_id'),
    )
    .select([
      's.session_id_hash',
      's.staff_id',
      'f.login_name',
      's.state',
      's.terminal_id',
      's.created_at',
      's.last_seen_at',
      's.expires_at',
    ])
    .where('s.lg_code', '=', lgCode)
    .where('s.state', '<>', 'ended')
    .where('s.expires_at', '>', now)
    .where('s.last_seen_at', '>', idleCutoff)
    .orderBy('s.created_at', 'desc')
    .execute();
}
