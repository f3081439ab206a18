/**
 * The transient store (一時保管): short-lived sensitive items — such as an online application carrying a
 * My Number, which the linkage server may hold only until it is handed over (PIA: "erased as soon as it is
 * handed over, completely, at once").
 *
 * Each item is encrypted (AES-256-GCM, bound to municipality, purpose and item id) under a random 256-bit
 * key of its own. That key exists in clear only in memory while the item is written or read; the database
 * holds it only wrapped by the municipality's key provider (`KeyProvider`, KEK outside the database), in a
 * row of its own (transient_key). Erasing an item deletes the ciphertext row and the wrapped-key row in one
 * transaction, then checks that neither row remains, then VACUUMs both tables so the dead tuples are gone
 * from the table files. Without the key row, a copy of the ciphertext is undecryptable.
 *
 * What this cannot promise (documented in the README): PostgreSQL may keep the old bytes for a while in
 * the write-ahead log (until its segments are recycled), in a replica or a backup taken meanwhile (kept
 * BACKUP_RETENTION_DAYS), and VACUUM cannot remove tuples that an older open transaction may still see.
 * Every such copy holds the item key only wrapped by the KEK; destroying the item key means deleting its
 * wrapped form, which becomes final when those copies age out.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAccessLog, type AuditContext } from '../audit/index.js';
import { textArray, type Db } from '../db/index.js';
import { KEY_BYTES, contextBytes, type KeyContext, type KeyProvider } from '../keys/index.js';
import { DomainError, NotFoundError } from '../shared/index.js';
import type { Trx } from './lifecycle.repository.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The longest an item may be kept: a day (it is meant for minutes). */
export const TRANSIENT_MAX_TTL_SECONDS = 24 * 60 * 60;

export interface Erasure {
  /** Items erased. */
  erased: number;
  /** Both rows of every erased item are confirmed gone. */
  verified: true;
  /** VACUUM ran on both tables (false when it could not run, e.g. inside a transaction). */
  vacuumed: boolean;
}

function itemContext(lgCode: string, purpose: string, itemId: string): KeyContext {
  return { table: 'transient_item', lgCode, purpose, itemId };
}

function notFound(): NotFoundError {
  return new NotFoundError(
    'TRANSIENT_ITEM_NOT_FOUND',
    '一時保管データが見つかりません（受け渡し済み、消去済み、または保管期限切れです）。',
  );
}

export class TransientStore {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly audit: AuditContext,
  ) {}

  /** Stores an item for `ttlSeconds`; returns its id. */
  async put(
    lgCode: string,
    purpose: string,
    plaintext: Buffer | string,
    ttlSeconds: number,
  ): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > TRANSIENT_MAX_TTL_SECONDS) {
      throw new DomainError(
        'TRANSIENT_TTL_INVALID',
        `一時保管の期限は1秒から${TRANSIENT_MAX_TTL_SECONDS}秒までで指定してください。`,
      );
    }
    if (!/^[A-Za-z][A-Za-z0-9.-]{0,63}$/.test(purpose)) {
      throw new DomainError(
        'TRANSIENT_PURPOSE_INVALID',
        '一時保管の用途は英数字の識別子で指定してください。',
      );
    }
    const itemId = randomUUID();
    const context = itemContext(lgCode, purpose, itemId);
    const itemKey = randomBytes(KEY_BYTES);
    try {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', itemKey, iv);
      cipher.setAAD(contextBytes(context));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const ciphertext = Buffer.concat([iv, cipher.getAuthTag(), body]);
      const wrapped = await this.keys.wrap(itemKey, context);
      const now = this.audit.clock.now();
      await this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('transient_item')
          .values({
            item_id: itemId,
            lg_code: lgCode,
            purpose,
            ciphertext,
            created_at: now,
            expires_at: new Date(now.getTime() + ttlSeconds * 1000),
          })
          .execute();
        await trx
          .insertInto('transient_key')
          .values({ item_id: itemId, lg_code: lgCode, kek_id: wrapped.kekId, wrapped: wrapped.wrapped })
          .execute();
      });
      return itemId;
    } finally {
      itemKey.fill(0);
    }
  }

  /**
   * Hands an item over: reads and decrypts it, and erases it in the same transaction (verified, then
   * vacuumed). An expired item is erased and refused.
   */
  async take(lgCode: string, itemId: string): Promise<Buffer> {
    if (!UUID.test(itemId)) throw notFound();
    const outcome = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('transient_item as i')
        .leftJoin('transient_key as k', 'k.item_id', 'i.item_id')
        .select(['i.purpose', 'i.ciphertext', 'i.expires_at', 'k.kek_id', 'k.wrapped'])
        .where('i.item_id', '=', itemId)
        .where('i.lg_code', '=', lgCode)
        .forUpdate('i')
        .executeTakeFirst();
      if (!row) throw notFound();
      const expired = row.expires_at <= this.audit.clock.now();
      let plaintext: Buffer | undefined;
      let failure: DomainError | undefined;
      if (expired) {
        failure = notFound();
      } else if (row.kek_id === null || row.wrapped === null) {
        failure = keyGone();
      } else {
        try {
          plaintext = await this.open(lgCode, row.purpose, itemId, row.ciphertext, {
            kekId: row.kek_id,
            wrapped: row.wrapped,
          });
        } catch (e) {
          failure = e instanceof DomainError ? e : decryptFailed();
        }
      }
      await deleteItems(trx, [itemId]);
      return { plaintext, failure };
    });
    await verifyAndVacuum(this.db, [itemId]);
    if (outcome.failure || !outcome.plaintext) throw outcome.failure ?? notFound();
    return outcome.plaintext;
  }

  /** Erases an item: deletes its ciphertext and its key, verifies both are gone, vacuums. */
  async erase(lgCode: string, itemId: string): Promise<Erasure> {
    if (!UUID.test(itemId)) return { erased: 0, verified: true, vacuumed: false };
    const n = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('transient_item')
        .select('item_id')
        .where('item_id', '=', itemId)
        .where('lg_code', '=', lgCode)
        .executeTakeFirst();
      if (!row) return 0;
      return deleteItems(trx, [itemId]);
    });
    if (n === 0) return { erased: 0, verified: true, vacuumed: false };
    return { erased: n, ...(await verifyAndVacuum(this.db, [itemId])) };
  }

  /** Erases every item past its time; see eraseExpiredTransientItems. */
  async eraseExpired(): Promise<Erasure> {
    return eraseExpiredTransientItems(this.db, this.audit);
  }

  /** Decrypts an item's ciphertext with its wrapped key. */
  private async open(
    lgCode: string,
    purpose: string,
    itemId: string,
    ciphertext: Buffer,
    wrapped: { kekId: string; wrapped: Buffer },
  ): Promise<Buffer> {
    const context = itemContext(lgCode, purpose, itemId);
    const itemKey = await this.keys.unwrap(wrapped, context);
    try {
      return decryptItem(itemKey, context, ciphertext);
    } finally {
      itemKey.fill(0);
    }
  }
}

async function deleteItems(trx: Trx, itemIds: readonly string[]): Promise<number> {
  if (itemIds.length === 0) return 0;
  await trx.deleteFrom('transient_key').where('item_id', 'in', itemIds).execute();
  const r = await trx.deleteFrom('transient_item').where('item_id', 'in', itemIds).executeTakeFirst();
  return Number(r.numDeletedRows);
}

function keyGone(): DomainError {
  return new DomainError('TRANSIENT_KEY_GONE', '一時保管データの鍵が消去されているため復号できません。');
}

function decryptFailed(): DomainError {
  return new DomainError(
    'TRANSIENT_DECRYPT_FAILED',
    '一時保管データを復号できませんでした（改ざんまたは鍵の不一致の可能性があります）。運用管理者に連絡してください。',
  );
}

/** AES-256-GCM: iv (12) | tag (16) | body, with the item's context as associated data. */
function decryptItem(key: Buffer, context: KeyContext, ciphertext: Buffer): Buffer {
  try {
    const iv = ciphertext.subarray(0, IV_BYTES);
    const tag = ciphertext.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(contextBytes(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw decryptFailed();
  }
}

/**
 * Erases every item past its time, in every municipality (the server's timer calls this; the key provider
 * is not needed), verified and vacuumed, with a batch entry in each municipality's access log.
 */
export async function eraseExpiredTransientItems(db: Db, audit: AuditContext): Promise<Erasure> {
  const now = audit.clock.now();
  const byLg = await db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('transient_item')
      .select(['item_id', 'lg_code'])
      .where('expires_at', '<=', now)
      .forUpdate()
      .skipLocked()
      .execute();
    await deleteItems(
      trx,
      rows.map((r) => r.item_id),
    );
    const counts = new Map<string, string[]>();
    for (const r of rows) counts.set(r.lg_code, [...(counts.get(r.lg_code) ?? []), r.item_id]);
    for (const [lgCode, ids] of counts) {
      await appendAccessLog(
        trx,
        {
          lgCode,
          staffId: 'system',
          terminalId: 'server',
          function: 'batch',
          outcome: 'success',
          details: { job: 'transientErase', erased: ids.length },
        },
        audit,
      );
    }
    return counts;
  });
  const ids = [...byLg.values()].flat();
  if (ids.length === 0) return { erased: 0, verified: true, vacuumed: false };
  return { erased: ids.length, ...(await verifyAndVacuum(db, ids)) };
}

/** Confirms both rows of every item are gone (or throws), then VACUUMs both tables. */
async function verifyAndVacuum(
  db: Db,
  itemIds: readonly string[],
): Promise<{ verified: true; vacuumed: boolean }> {
  const left = await sql<{ n: number }>`
    SELECT (SELECT count(*) FROM transient_item WHERE item_id = ANY(${textArray(itemIds, 'uuid')}))
         + (SELECT count(*) FROM transient_key WHERE item_id = ANY(${textArray(itemIds, 'uuid')})) AS n`.execute(
    db,
  );
  if (Number(left.rows[0]?.n ?? 0) !== 0) {
    throw new DomainError(
      'TRANSIENT_ERASE_UNVERIFIED',
      '一時保管データの消去を確認できませんでした。運用管理者に連絡してください。',
    );
  }
  let vacuumed = true;
  try {
    await sql`VACUUM transient_item, transient_key`.execute(db);
  } catch {
    vacuumed = false;
  }
  return { verified: true, vacuumed };
}
