/**
 * Registering, listing and revoking terminals (staff administration), and recognising the terminal a
 * request comes from by its cookie. Registration and revocation are logged as staff administration acts.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { DomainError, requirePermission, type Actor, type Clock } from '../shared/index.js';
import { newSessionToken, sessionHashOf } from './credentials.js';
import { UNKNOWN_TERMINAL } from './staff.js';
import { recordStaffAct, type AuditContext } from './staff.audit.js';
import {
  Terminal,
  TerminalRegistration,
  terminalNotFound,
  terminalTaken,
  type ThisTerminal,
} from './terminal.js';
import {
  findActiveTerminal,
  findActiveTerminalByToken,
  insertTerminal,
  listTerminals,
  revokeTerminal,
  type TerminalRow,
} from './terminal.repository.js';

function terminalOf(row: TerminalRow): Terminal {
  return Terminal.parse({
    terminalId: row.terminal_id,
    name: row.name,
    registeredBy: row.registered_by,
    registeredAt: row.registered_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
  });
}

export class TerminalService {
  private readonly audit: AuditContext;

  constructor(
    private readonly db: Db,
    config: Config,
    private readonly clock: Clock,
  ) {
    this.audit = { clock, monitoring: config.monitoring };
  }

  /**
   * Registers the administrator's browser as a terminal of their municipality; returns the terminal and
   * the cookie token (shown to no one: it goes into the cookie; only its hash is stored).
   */
  async register(actor: Actor, input: unknown): Promise<{ terminal: Terminal; token: string }> {
    requirePermission(actor, 'staffAdmin');
    const parsed = TerminalRegistration.safeParse(input);
    if (!parsed.success) {
      throw new DomainError(
        'INVALID_TERMINAL',
        '端末IDは半角英数字・_・- の40文字以内、端末名は100文字以内で入力してください。',
      );
    }
    const { terminalId, name } = parsed.data;
    const token = newSessionToken();
    const row: TerminalRow = {
      lg_code: actor.lgCode,
      terminal_id: terminalId,
      name,
      token_hash: sessionHashOf(token),
      registered_by: actor.staffId,
      registered_at: this.clock.now(),
      revoked_at: null,
      revoked_by: null,
    };
    await this.db.transaction().execute(async (trx) => {
      if (await findActiveTerminal(trx, actor.lgCode, terminalId)) throw terminalTaken();
      await insertTerminal(trx, row);
      await recordStaffAct(
        trx,
        {
          lgCode: actor.lgCode,
          staffId: actor.staffId,
          // The act happens at the terminal being registered.
          terminalId,
          function: 'staffAdmin',
          outcome: 'success',
          details: { action: 'terminalRegistered', terminalId, previousTerminalId: actor.terminalId },
        },
        this.audit,
      );
    });
    return { terminal: terminalOf(row), token };
  }

  async revoke(actor: Actor, terminalId: string): Promise<void> {
    requirePermission(actor, 'staffAdmin');
    await this.db.transaction().execute(async (trx) => {
      if (!(await revokeTerminal(trx, actor.lgCode, terminalId, actor.staffId, this.clock.now()))) {
        throw terminalNotFound();
      }
      await recordStaffAct(
        trx,
        {
          lgCode: actor.lgCode,
          staffId: actor.staffId,
          terminalId: actor.terminalId,
          function: 'staffAdmin',
          outcome: 'success',
          details: { action: 'terminalRevoked', terminalId },
        },
        this.audit,
      );
    });
  }

  async list(actor: Actor): Promise<Terminal[]> {
    requirePermission(actor, 'staffAdmin');
    return (await listTerminals(this.db, actor.lgCode)).map(terminalOf);
  }

  /** The active terminal behind a cookie value, if any (of any municipality: the session decides which). */
  async find(
    token: string | undefined,
  ): Promise<{ lgCode: string; terminalId: string; name: string } | undefined> {
    if (!token) return undefined;
    const row = await findActiveTerminalByToken(this.db, sessionHashOf(token));
    return row ? { lgCode: row.lg_code, terminalId: row.terminal_id, name: row.name } : undefined;
  }

  /**
   * The terminal a request of this municipality comes from: the registered terminal of its cookie; with a
   * cookie that names no active terminal of the municipality, 'unknown'; without a cookie, `fallback`.
   */
  async terminalIdOf(token: string | undefined, lgCode: string, fallback: string): Promise<string> {
    if (token === undefined) return fallback;
    const found = await this.find(token);
    return found?.lgCode === lgCode ? found.terminalId : UNKNOWN_TERMINAL;
  }

  /** What the sign-in screen says about this browser. */
  async describe(token: string | undefined): Promise<ThisTerminal> {
    const found = await this.find(token);
    return found
      ? { registered: true, terminalId: found.terminalId, name: found.name }
      : { registered: false, terminalId: UNKNOWN_TERMINAL, name: null };
  }
}
