/**
 * Signing in and out, and recognising a signed-in request. A sign-in is two steps: the password opens a
 * short `pending` session; the second factor (TOTP) ends it and opens an `active` session under a new id
 * (rotation, so an id seen before sign-in is worthless after). Every outcome that matters is written to
 * the access log in the transaction that records it; refusals are thrown after that transaction commits,
 * so the failure count and its log entry survive the refusal.
 */
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { Permission, type Actor, type Clock, type DomainError } from '../shared/index.js';
import {
  newCsrfToken,
  newSessionToken,
  sameToken,
  sessionHashOf,
  totpStepOf,
  verifyNothing,
  verifyPassword,
} from './credentials.js';
import { recordStaffAct, type AuditContext, type StaffAuditEntry } from './staff.audit.js';
import {
  claimTotpStep,
  endSession,
  endSessionsOf,
  findSessionWithStaff,
  findStaffByLogin,
  insertSession,
  municipalityExists,
  permissionsOf,
  recordFailedAttempt,
  resetFailedAttempts,
  touchSession,
  type SessionWithStaffRow,
  type Trx,
} from './staff.repository.js';
import {
  accountLocked,
  csrfTokenInvalid,
  LgCode,
  loginFailed,
  secondFactorFailed,
  secondFactorReused,
  sessionExpired,
  toPermissions,
  unauthenticated,
  type SessionEndReason,
} from './staff.js';
import type { Keyring } from '../keys/index.js';
import { openTotpSecret } from './totp-secret.js';

/** Between the password and the second factor a clerk has this long. */
export const PENDING_SESSION_MINUTES = 5;

const MINUTE_MS = 60_000;

/**
 * How stale a session's last activity may get before a request records it again. Writing it on every
 * request made every API call an update and a commit of its own (and the requests of one session queued
 * on its row); now a session's idle timeout may run out up to this much sooner than the last request plus
 * the timeout — never later.
 */
export const SESSION_TOUCH_INTERVAL_MS = 30_000;

export const LoginRequest = z.object({
  lgCode: LgCode.optional(),
  // Not the LoginName schema: a malformed name must get the same answer as an unknown one.
  loginName: z.string().max(100),
  password: z.string().max(1024),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const SecondFactorRequest = z.object({ code: z.string().trim().max(10) });
export type SecondFactorRequest = z.infer<typeof SecondFactorRequest>;

/** A signed-in staff member, as the UI sees them. */
export const SignedIn = z.object({
  staffId: z.string(),
  lgCode: z.string(),
  displayName: z.string(),
  terminalId: z.string(),
  permissions: z.array(Permission),
  csrfToken: z.string(),
  expiresAt: z.string(),
});
export type SignedIn = z.infer<typeof SignedIn>;

/** What a request resolves to: the acting staff member and what the UI needs to know about the session. */
export interface ResolvedSession {
  readonly actor: Actor;
  readonly signedIn: SignedIn;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class AuthService {
  private readonly audit: AuditContext;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly keyring: Keyring,
  ) {
    this.audit = { clock, monitoring: config.monitoring };
  }

  private record(trx: Trx, entry: StaffAuditEntry): Promise<void> {
    return recordStaffAct(trx, entry, this.audit);
  }

  /**
   * Checks the password and opens a pending session; returns the cookie value. Unknown, malformed and
   * disabled names get the same refusal as a wrong password, after the same amount of work.
   */
  async login(input: unknown, terminalId: string): Promise<{ token: string }> {
    const request = LoginRequest.parse(input);
    const lgCode = request.lgCode ?? this.config.lgCode;
    const loginName = request.loginName.trim().toLowerCase();
    const staff = await findStaffByLogin(this.db, lgCode, loginName);
    const failedBase = { lgCode, terminalId, function: 'loginFailed' } as const;

    if (!staff || staff.disabled_at !== null) {
      await verifyNothing(request.password);
      // An unknown municipality has no log of its own: the attempt goes to this deployment's.
      const known = staff !== undefined || (await municipalityExists(this.db, lgCode));
      await this.db.transaction().execute((trx) =>
        this.record(trx, {
          ...failedBase,
          lgCode: known ? lgCode : this.config.lgCode,
          staffId: staff?.staff_id ?? null,
          outcome: 'failed',
          details: { reason: staff ? 'disabled' : known ? 'unknownLoginName' : 'unknownMunicipality' },
        }),
      );
      throw loginFailed();
    }
    const staffId = staff.staff_id;
    if (staff.locked_at !== null) {
      // Not even checked: a locked account must not become an oracle for guessing its password.
      await this.db
        .transaction()
        .execute((trx) =>
          this.record(trx, { ...failedBase, staffId, outcome: 'refused', details: { reason: 'locked' } }),
        );
      throw accountLocked();
    }
    if (!(await verifyPassword(staff.password_hash, request.password))) {
      const refusal = await this.db.transaction().execute(async (trx) => {
        const now = this.clock.now();
        const counted = await recordFailedAttempt(
          trx,
          lgCode,
          staffId,
          this.config.auth.lockoutThreshold,
          now,
        );
        if (counted.locked) await endSessionsOf(trx, lgCode, staffId, 'locked', now);
        await this.record(trx, {
          ...failedBase,
          staffId,
          outcome: 'failed',
          details: { reason: 'password', failedAttempts: counted.failedAttempts, locked: counted.locked },
        });
        return counted.locked ? accountLocked() : loginFailed();
      });
      throw refusal;
    }
    // The failure count is not reset here: only a complete sign-in resets it, or someone who knows the
    // password could guess second-factor codes for ever.
    const token = newSessionToken();
    const now = this.clock.now();
    await this.db.transaction().execute((trx) =>
      insertSession(trx, {
        session_id_hash: sessionHashOf(token),
        lg_code: lgCode,
        staff_id: staffId,
        state: 'pending',
        csrf_token: newCsrfToken(),
        terminal_id: terminalId,
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + PENDING_SESSION_MINUTES * MINUTE_MS),
      }),
    );
    return { token };
  }

  /**
   * Checks the TOTP code of a pending session. On success the pending session ends and an active one
   * opens under a new id (returned as the new cookie value).
   */
  async secondFactor(
    pendingToken: string | undefined,
    input: unknown,
  ): Promise<{ token: string; signedIn: SignedIn }> {
    const { code } = SecondFactorRequest.parse(input);
    if (!pendingToken) throw unauthenticated();
    const pendingHash = sessionHashOf(pendingToken);
    const session = await findSessionWithStaff(this.db, pendingHash);
    if (!session || session.state !== 'pending') throw unauthenticated();
    const { lg_code: lgCode, staff_id: staffId, terminal_id: terminalId } = session;
    const now = this.clock.now();

    if (session.disabled_at !== null || session.locked_at !== null || now >= session.expires_at) {
      const expired = session.disabled_at === null && session.locked_at === null;
      await this.end(session, expired ? 'absolute' : session.locked_at ? 'locked' : 'disabled', now);
      throw expired ? sessionExpired() : session.locked_at ? accountLocked() : unauthenticated();
    }

    const keys = await this.keyring.forMunicipality(lgCode);
    const step = totpStepOf(openTotpSecret(keys, staffId, session.totp_secret), code, now);
    type Outcome = { refusal: DomainError } | { token: string; signedIn: SignedIn };
    const outcome = await this.db.transaction().execute(async (trx): Promise<Outcome> => {
      const replay = step !== undefined && !(await claimTotpStep(trx, lgCode, staffId, step));
      if (step === undefined || replay) {
        const counted = await recordFailedAttempt(
          trx,
          lgCode,
          staffId,
          this.config.auth.lockoutThreshold,
          now,
        );
        if (counted.locked) await endSessionsOf(trx, lgCode, staffId, 'locked', now);
        await this.record(trx, {
          lgCode,
          staffId,
          terminalId,
          function: 'secondFactorFailed',
          outcome: 'failed',
          details: {
            reason: replay ? 'reused' : 'wrongCode',
            failedAttempts: counted.failedAttempts,
            locked: counted.locked,
          },
        });
        return {
          refusal: counted.locked ? accountLocked() : replay ? secondFactorReused() : secondFactorFailed(),
        };
      }
      await resetFailedAttempts(trx, lgCode, staffId);
      await endSession(trx, lgCode, pendingHash, 'rotated', now);
      const token = newSessionToken();
      const activeHash = sessionHashOf(token);
      const csrfToken = newCsrfToken();
      const expiresAt = new Date(now.getTime() + this.config.auth.sessionAbsoluteHours * 60 * MINUTE_MS);
      await insertSession(trx, {
        session_id_hash: activeHash,
        lg_code: lgCode,
        staff_id: staffId,
        state: 'active',
        csrf_token: csrfToken,
        terminal_id: terminalId,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
      });
      const permissions = toPermissions(await permissionsOf(trx, lgCode, staffId));
      await this.record(trx, {
        lgCode,
        staffId,
        terminalId,
        function: 'login',
        outcome: 'success',
        details: { sessionId: activeHash, secondFactor: 'totp' },
      });
      return {
        token,
        signedIn: {
          staffId,
          lgCode,
          displayName: session.display_name,
          terminalId,
          permissions,
          csrfToken,
          expiresAt: expiresAt.toISOString(),
        },
      };
    });
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome;
  }

  /** Ends the actor's own session. */
  async logout(actor: Actor): Promise<void> {
    const sessionId = actor.sessionId;
    if (!sessionId) throw unauthenticated();
    await this.db.transaction().execute(async (trx) => {
      await endSession(trx, actor.lgCode, sessionId, 'logout', this.clock.now());
      await this.record(trx, {
        lgCode: actor.lgCode,
        staffId: actor.staffId,
        terminalId: actor.terminalId,
        function: 'logout',
        outcome: 'success',
        details: { sessionId },
      });
    });
  }

  /**
   * The signed-in staff member behind a cookie value, for a request with this method and CSRF header.
   * Refuses (UNAUTHENTICATED) an unknown, pending or ended session; ends and refuses (SESSION_EXPIRED) a
   * timed-out one; refuses (CSRF_TOKEN_INVALID) a state-changing request without the session's token.
   * A request that passes counts as activity (the idle timeout restarts).
   */
  async resolve(
    token: string | undefined,
    request: { method: string; csrfToken: string | undefined },
  ): Promise<ResolvedSession> {
    if (!token) throw unauthenticated();
    const session = await findSessionWithStaff(this.db, sessionHashOf(token));
    if (!session || session.state !== 'active') throw unauthenticated();
    const now = this.clock.now();
    if (session.disabled_at !== null || session.locked_at !== null) {
      await this.end(session, session.disabled_at ? 'disabled' : 'locked', now);
      throw unauthenticated();
    }
    const idleLimit = session.last_seen_at.getTime() + this.config.auth.sessionIdleMinutes * MINUTE_MS;
    if (now >= session.expires_at || now.getTime() >= idleLimit) {
      await this.end(session, now >= session.expires_at ? 'absolute' : 'idle', now);
      throw sessionExpired();
    }
    if (!SAFE_METHODS.has(request.method.toUpperCase())) {
      if (!request.csrfToken || !sameToken(request.csrfToken, session.csrf_token)) throw csrfTokenInvalid();
    }
    if (now.getTime() - session.last_seen_at.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
      await touchSession(this.db, session.session_id_hash, now);
    }
    const permissions = toPermissions(session.permissions ?? []);
    return {
      actor: {
        lgCode: session.lg_code,
        staffId: session.staff_id,
        terminalId: session.terminal_id,
        sessionId: session.session_id_hash,
        permissions: new Set(permissions),
        profile: { familyName: session.family_name, address: session.address ?? undefined },
      },
      signedIn: {
        staffId: session.staff_id,
        lgCode: session.lg_code,
        displayName: session.display_name,
        terminalId: session.terminal_id,
        permissions,
        csrfToken: session.csrf_token,
        expiresAt: session.expires_at.toISOString(),
      },
    };
  }

  /** Ends a session the system found timed out or no longer allowed, with its log entry. */
  private async end(session: SessionWithStaffRow, reason: SessionEndReason, now: Date): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (!(await endSession(trx, session.lg_code, session.session_id_hash, reason, now))) return;
      await this.record(trx, {
        lgCode: session.lg_code,
        staffId: session.staff_id,
        terminalId: session.terminal_id,
        function: 'sessionEnded',
        outcome: 'success',
        details: { sessionId: session.session_id_hash, reason, state: session.state },
      });
    });
  }
}
