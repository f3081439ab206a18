/** Queries of the registered terminals. Rows stay in this module. */
import type { Selectable } from 'kysely';
import type { Db } from '../db/index.js';
import type { TerminalTable } from '../db/schema.js';
import type { Trx } from './staff.repository.js';

export type TerminalRow = Selectable<TerminalTable>;

/** The active terminal whose cookie token hashes to this, in any municipality. */
export async function findActiveTerminalByToken(db: Db, tokenHash: string): Promise<TerminalRow | undefined> {
  return db
    .selectFrom('terminal')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function findActiveTerminal(
  db: Db | Trx,
  lgCode: string,
  terminalId: string,
): Promise<TerminalRow | undefined> {
  return db
    .selectFrom('terminal')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .where('terminal_id', '=', terminalId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function insertTerminal(trx: Trx, row: TerminalRow): Promise<void> {
  await trx.insertInto('terminal').values(row).execute();
}

export async function revokeTerminal(
  trx: Trx,
  lgCode: string,
  terminalId: string,
  by: string,
  at: Date,
): Promise<boolean> {
  const result = await trx
    .updateTable('terminal')
    .set({ revoked_at: at, revoked_by: by })
    .where('lg_code', '=', lgCode)
    .where('terminal_id', '=', terminalId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function listTerminals(db: Db, lgCode: string): Promise<TerminalRow[]> {
  return db
    .selectFrom('terminal')
    .selectAll()
    .where('lg_code', '=', lgCode)
    .orderBy('registered_at', 'desc')
    .execute();
}
