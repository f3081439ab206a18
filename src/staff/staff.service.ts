/**
 * Staff administration: accounts, grants, unlocking, disabling, sessions. Every operation acts for the
 * actor's own municipality only — another municipality's staff are simply not found — and requires the
 * `staffAdmin` permission (checked here too, not only by the route: the CLI and other callers come in
 * without a route). Each act writes its access-log entry in its own transaction.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { hasPermission, Permission, type Actor, type Clock } from '../shared/index.js';
import { hashPassword, newStaffId, newTotpSecret, otpauthUrl } from './credentials.js';
import { recordStaffAct, type AuditContext, type StaffAuditEntry } from './staff.audit.js';
import {
  disableStaff,
  endSession,
  endSessionsOf,
  findOpenSession,
  findStaff,
  findStaffByLogin,
  findStaffForUpdate,
  grantPermissions,
  insertStaff,
  listOpenSessions,
  listStaffRows,
  municipalityExists,
  permissionsByStaff,
  permissionsOf,
  revokePermissions,
  unlockStaff,
  type StaffRow,
  type Trx,
} from './staff.repository.js';
import {
  checkPasswordPolicy,
  forbidden,
  loginNameTaken,
  municipalityUnknown,
  NewStaffInput,
  notForSelf,
  sessionNotFound,
  staffNotFound,
  toPermissions,
  type CreatedStaff,
  type SessionView,
  type Staff,
  type StaffName,
} from './staff.js';
import type { Keyring } from '../keys/index.js';
import { sealTotpSecret } from './totp-secret.js';

export const PermissionChange = z.object({ permissions: z.array(Permission).min(1) });
export type PermissionChange = z.infer<typeof PermissionChange>;

export function rowToStaff(row: StaffRow, permissions: readonly string[]): Staff {
  return {
    staffId: row.staff_id,
    lgCode: row.lg_code,
    loginName: row.login_name,
    displayName: row.display_name,
    familyName: row.family_name,
    address: row.address,
    permissions: toPermissions(permissions),
    failedAttempts: row.failed_attempts,
    locked: row.locked_at !== null,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

function requireAdmin(actor: Actor): void {
  if (!hasPermission(actor, 'staffAdmin')) throw forbidden();
}

export class StaffService {
  private readonly audit: AuditContext;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly keyring: Keyring,
  ) {
    this.audit = { clock, monitoring: config.monitoring };
  }

  private record(
    trx: Trx,
    actor: Actor,
    entry: Pick<StaffAuditEntry, 'function' | 'details'>,
  ): Promise<void> {
    return recordStaffAct(
      trx,
      {
        lgCode: actor.lgCode,
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        outcome: 'success',
        ...entry,
      },
      this.audit,
    );
  }

  /**
   * Creates an account in the actor's municipality. The TOTP secret and its otpauth:// URL are returned
   * this once, to be enrolled in the staff member's authenticator; they are never shown again.
   * `options.totpSecret` fixes the secret (demo accounts only).
   */
  async create(actor: Actor, input: unknown, options: { totpSecret?: string } = {}): Promise<CreatedStaff> {
    requireAdmin(actor);
    const parsed = NewStaffInput.parse(input);
    checkPasswordPolicy(parsed.password, parsed.loginName);
    const lgCode = actor.lgCode;
    if (!(await municipalityExists(this.db, lgCode))) throw municipalityUnknown();
    if (await findStaffByLogin(this.db, lgCode, parsed.loginName)) throw loginNameTaken();
    const passwordHash = await hashPassword(parsed.password); // slow: outside the transaction
    const totpSecret = options.totpSecret ?? newTotpSecret();
    const staffId = newStaffId();
    const now = this.clock.now();
    const permissions = [...new Set(parsed.permissions)];
    // Before the transaction: the first use in a municipality creates its data keys (own transaction).
    const keys = await this.keyring.forMunicipality(lgCode);
    await this.db
      .transaction()
      .execute(async (trx) => {
        await insertStaff(trx, {
          staff_id: staffId,
          lg_code: lgCode,
          login_name: parsed.loginName,
          display_name: parsed.displayName,
          family_name: parsed.familyName,
          address: parsed.address ?? null,
          password_hash: passwordHash,
          totp_secret: sealTotpSecret(keys, staffId, totpSecret),
          created_at: now,
          created_by: actor.staffId,
        });
        await grantPermissions(trx, lgCode, staffId, permissions, actor.staffId, now);
        await this.record(trx, actor, {
          function: 'staffAdmin',
          details: { action: 'create', targetStaffId: staffId },
        });
        if (permissions.length > 0) {
          await this.record(trx, actor, {
            function: 'permissionChange',
            details: { targetStaffId: staffId, granted: permissions, revoked: [] },
          });
        }
      })
      .catch((e: unknown) => {
        // Two administrators creating the same name at once: the unique index decides.
        if ((e as { code?: string }).code === '23505') throw loginNameTaken();
        throw e;
      });
    const created = await this.get(actor, staffId);
    return {
      staff: created,
      totpSecret,
      otpauthUrl: otpauthUrl(totpSecret, `${lgCode}:${parsed.loginName}`),
    };
  }

  /** The municipality's staff, without secrets. */
  async list(actor: Actor): Promise<Staff[]> {
    requireAdmin(actor);
    const [rows, grants] = await Promise.all([
      listStaffRows(this.db, actor.lgCode),
      permissionsByStaff(this.db, actor.lgCode),
    ]);
    return rows.map((r) => rowToStaff(r, grants.get(r.staff_id) ?? []));
  }

  /**
   * Who is who, for auditors reading the access log and alerts: every account of the municipality (the
   * disabled ones too, since old entries name them) with its display and login name, nothing else.
   */
  async directory(actor: Actor): Promise<StaffName[]> {
    if (!hasPermission(actor, 'logReview')) throw forbidden();
    return (await listStaffRows(this.db, actor.lgCode)).map((r) => ({
      staffId: r.staff_id,
      displayName: r.display_name,
      loginName: r.login_name,
    }));
  }

  async get(actor: Actor, staffId: string): Promise<Staff> {
    requireAdmin(actor);
    const row = await findStaff(this.db, actor.lgCode, staffId);
    if (!row) throw staffNotFound();
    return rowToStaff(row, await permissionsOf(this.db, actor.lgCode, staffId));
  }

  /** Grants permissions for the actor's municipality; granting one already held changes nothing. */
  async grant(actor: Actor, staffId: string, input: unknown): Promise<Staff> {
    requireAdmin(actor);
    const { permissions } = PermissionChange.parse(input);
    await this.db.transaction().execute(async (trx) => {
      await this.lockTarget(trx, actor, staffId);
      const granted = await grantPermissions(
        trx,
        actor.lgCode,
        staffId,
        permissions,
        actor.staffId,
        this.clock.now(),
      );
      if (granted.length > 0) {
        await this.record(trx, actor, {
          function: 'permissionChange',
          details: { targetStaffId: staffId, granted, revoked: [] },
        });
      }
    });
    return this.get(actor, staffId);
  }

  /**
   * Revokes permissions. An administrator cannot take staff administration from themselves, so the
   * municipality is never left without one by a slip.
   */
  async revoke(actor: Actor, staffId: string, input: unknown): Promise<Staff> {
    requireAdmin(actor);
    const { permissions } = PermissionChange.parse(input);
    if (staffId === actor.staffId && permissions.includes('staffAdmin')) throw notForSelf();
    await this.db.transaction().execute(async (trx) => {
      await this.lockTarget(trx, actor, staffId);
      const revoked = await revokePermissions(trx, actor.lgCode, staffId, permissions);
      if (revoked.length > 0) {
        await this.record(trx, actor, {
          function: 'permissionChange',
          details: { targetStaffId: staffId, granted: [], revoked },
        });
      }
    });
    return this.get(actor, staffId);
  }

  /** Lifts a lockout and clears the failure count. */
  async unlock(actor: Actor, staffId: string): Promise<Staff> {
    requireAdmin(actor);
    await this.db.transaction().execute(async (trx) => {
      const target = await this.lockTarget(trx, actor, staffId);
      await unlockStaff(trx, actor.lgCode, staffId);
      await this.record(trx, actor, {
        function: 'staffAdmin',
        details: { action: 'unlock', targetStaffId: staffId, wasLocked: target.locked_at !== null },
      });
    });
    return this.get(actor, staffId);
  }

  /** Disables an account for good and ends its sessions. Rows stay: the access log names them. */
  async disable(actor: Actor, staffId: string): Promise<Staff> {
    requireAdmin(actor);
    if (staffId === actor.staffId) throw notForSelf();
    await this.db.transaction().execute(async (trx) => {
      await this.lockTarget(trx, actor, staffId);
      const now = this.clock.now();
      await disableStaff(trx, actor.lgCode, staffId, now);
      const ended = await endSessionsOf(trx, actor.lgCode, staffId, 'disabled', now);
      await this.record(trx, actor, {
        function: 'staffAdmin',
        details: { action: 'disable', targetStaffId: staffId, endedSessions: ended.length },
      });
      for (const sessionId of ended) {
        await this.record(trx, actor, {
          function: 'sessionEnded',
          details: { sessionId, targetStaffId: staffId, reason: 'disabled' },
        });
      }
    });
    return this.get(actor, staffId);
  }

  /** Open sessions of the municipality (timed-out ones excluded). */
  async sessions(actor: Actor): Promise<SessionView[]> {
    requireAdmin(actor);
    const now = this.clock.now();
    const idleCutoff = new Date(now.getTime() - this.config.auth.sessionIdleMinutes * 60_000);
    const rows = await listOpenSessions(this.db, actor.lgCode, now, idleCutoff);
    return rows.map((r) => ({
      sessionId: r.session_id_hash,
      staffId: r.staff_id,
      loginName: r.login_name,
      state: r.state,
      terminalId: r.terminal_id,
      createdAt: r.created_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
    }));
  }

  /** Ends any open session of the municipality; its next request answers 401. */
  async endSession(actor: Actor, sessionId: string): Promise<void> {
    requireAdmin(actor);
    await this.db.transaction().execute(async (trx) => {
      const session = await findOpenSession(trx, actor.lgCode, sessionId);
      if (!session || !(await endSession(trx, actor.lgCode, sessionId, 'admin', this.clock.now()))) {
        throw sessionNotFound();
      }
      await this.record(trx, actor, {
        function: 'sessionEnded',
        details: { sessionId, targetStaffId: session.staff_id, reason: 'admin' },
      });
    });
  }

  /** The target account, row-locked for the transaction; not found outside the actor's municipality. */
  private async lockTarget(trx: Trx, actor: Actor, staffId: string): Promise<StaffRow> {
    const row = await findStaffForUpdate(trx, actor.lgCode, staffId);
    if (!row) throw staffNotFound();
    return row;
  }
}
