/**
 * The keyring: each municipality's data keys, stored in `data_key` only wrapped by the key provider's KEK,
 * unwrapped on first use and kept in memory. Two data keys per municipality:
 *
 * - `field`: AES-256-GCM encryption of single values (個人番号, support-measure details, reasons). The
 *   associated data names the municipality, table, column and row the value belongs to, so a ciphertext
 *   copied to another row, column or municipality fails to decrypt instead of showing the wrong value.
 * - `index`: HMAC-SHA256 blind indexes, to find a value (a 個人番号) by equality without storing it.
 *
 * Stored ciphertext: format (1 byte, = 1) ‖ data-key version (4 bytes, big-endian) ‖ IV (12) ‖ tag (16) ‖
 * body. The header is authenticated too (it is part of the associated data).
 *
 * Rotation (`rotate`) re-wraps every data key under the provider's current KEK in one transaction: the data
 * keys themselves do not change, so no ciphertext or index changes and a running server keeps its cached
 * keys. After it, the old KEK can be retired.
 *
 * On the embedded database (one connection) call `forMunicipality` before opening a transaction: creating a
 * municipality's keys the first time uses a transaction of its own.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomFillSync } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Database, Db } from '../db/index.js';
import { DomainError } from '../shared/index.js';
import { KEY_BYTES, type KeyContext, type KeyProvider } from './key-provider.js';

export const CIPHERTEXT_FORMAT = 1;
const HEADER_BYTES = 1 + 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type DataKeyPurpose = 'field' | 'index';
const PURPOSES: readonly DataKeyPurpose[] = ['field', 'index'];

/** Where an encrypted value lives; bound into its ciphertext as associated data. */
export interface FieldBinding {
  readonly table: string;
  readonly column: string;
  /** The row's key, e.g. an id or `person_no:history_seq`. */
  readonly row: string | number;
}

/** What the provider binds to a wrapped data key (its encryption context). */
export function dataKeyContext(lgCode: string, purpose: DataKeyPurpose, version: number): KeyContext {
  return { app: 'jumin', lgCode, purpose, version: String(version) };
}

function aadOf(lgCode: string, b: FieldBinding, header: Buffer): Buffer {
  return Buffer.concat([
    header,
    Buffer.from(JSON.stringify(['jumin-field', lgCode, b.table, b.column, String(b.row)]), 'utf8'),
  ]);
}

/** A value that could not be decrypted: altered, moved to another row, or under another key. */
export function dataUnreadable(b: FieldBinding): DomainError {
  // Table and column only: the row key may itself be personal (宛名番号), the value never goes into an error.
  return new DomainError(
    'DATA_UNREADABLE',
    '暗号化された情報を復号できませんでした（改ざんまたは鍵の不一致の可能性があります）。システム管理者に連絡してください。',
    { table: b.table, column: b.column },
  );
}

/**
 * Random IVs drawn from a pool refilled 4 KiB at a time: one `randomFillSync` per 341 encryptions instead of
 * a system call each (bulk loads encrypt millions of values). Each IV is still 96 fresh random bits, never
 * reused: the pool is consumed forward and refilled in place.
 */
const ivPool = Buffer.alloc(IV_BYTES * 341);
let ivOffset = ivPool.length;
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
  ivOffset += IV_BYTES;
  return iv;
}

/**
 * A municipality's unwrapped data keys as plain data, for a worker thread of this process only (the bulk
 * loader builds rows on every core): structured-cloned to the thread, never written anywhere.
 */
export interface MunicipalityKeyMaterial {
  lgCode: string;
  fieldKeys: Array<[version: number, key: Uint8Array]>;
  indexKey: Uint8Array;
}

/** One municipality's unwrapped data keys. Synchronous: use inside transactions once obtained. */
export class MunicipalityKeys {
  constructor(
    readonly lgCode: string,
    private readonly fieldKeys: ReadonlyMap<number, Buffer>,
    private readonly indexKey: Buffer,
  ) {}

  /** The keys for a worker thread of this process (`fromMaterial` there). */
  material(): MunicipalityKeyMaterial {
    return { lgCode: this.lgCode, fieldKeys: [...this.fieldKeys], indexKey: this.indexKey };
  }

  static fromMaterial(m: MunicipalityKeyMaterial): MunicipalityKeys {
    return new MunicipalityKeys(
      m.lgCode,
      new Map(m.fieldKeys.map(([version, key]) => [version, Buffer.from(key)])),
      Buffer.from(m.indexKey),
    );
  }

  private get currentVersion(): number {
    return Math.max(...this.fieldKeys.keys());
  }

  /** Encrypts a string (UTF-8) or bytes. */
  encrypt(binding: FieldBinding, plaintext: string | Uint8Array): Buffer {
    const version = this.currentVersion;
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(CIPHERTEXT_FORMAT, 0);
    header.writeUInt32BE(version, 1);
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.fieldKeys.get(version)!, iv);
    cipher.setAAD(aadOf(this.lgCode, binding, header));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
  }

  /** Throws DATA_UNREADABLE when the value was altered, moved to another row, or encrypted under another key. */
  decrypt(binding: FieldBinding, stored: Uint8Array): string {
    return this.decryptBytes(binding, stored).toString('utf8');
  }

  /** Like `decrypt`, for values that were bytes. */
  decryptBytes(binding: FieldBinding, stored: Uint8Array): Buffer {
    const data = Buffer.from(stored);
    try {
      if (data.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || data[0] !== CIPHERTEXT_FORMAT) {
        throw new Error('format');
      }
      const header = data.subarray(0, HEADER_BYTES);
      const key = this.fieldKeys.get(header.readUInt32BE(1));
      if (!key) throw new Error('key version');
      const iv = data.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
      const tag = data.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aadOf(this.lgCode, binding, header));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(data.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw dataUnreadable(binding);
    }
  }

  /**
   * Keyed blind index of a value (HMAC-SHA256 under the index key), for lookups by equality. `domain`
   * separates kinds of values, so equal strings of different kinds never share an index.
   */
  blindIndex(value: string, domain = 'myNumber'): Buffer {
    return createHmac('sha256', this.indexKey).update(`${domain}\u0000${value}`, 'utf8').digest();
  }
}

export interface RotationResult {
  /** The KEK every data key is now wrapped by. */
  readonly kekId: string;
  readonly keys: ReadonlyArray<{
    readonly lgCode: string;
    readonly purpose: DataKeyPurpose;
    readonly version: number;
    /** The KEK that wrapped it before (may equal `kekId`: a KMS whose key material rotated inside). */
    readonly from: string;
  }>;
}

export interface DataKeyInfo {
  readonly lgCode: string;
  readonly purpose: DataKeyPurpose;
  readonly version: number;
  readonly kekId: string;
  readonly createdAt: Date;
  readonly rewrappedAt: Date | null;
}

export class Keyring {
  private readonly cache = new Map<string, Promise<MunicipalityKeys>>();
  private readonly ready = new Map<string, MunicipalityKeys>();

  constructor(
    private readonly db: Db,
    readonly provider: KeyProvider,
  ) {}

  /**
   * The municipality's data keys: read and unwrapped once, then served from memory; created (and wrapped)
   * on first use. Safe when several processes create them at once: one insert wins, all use its keys.
   */
  forMunicipality(lgCode: string): Promise<MunicipalityKeys> {
    let keys = this.cache.get(lgCode);
    if (!keys) {
      keys = this.load(lgCode).then((k) => {
        this.ready.set(lgCode, k);
        return k;
      });
      this.cache.set(lgCode, keys);
      // A failure (e.g. a wrong master key) is not cached: the next call tries again.
      keys.catch(() => this.cache.delete(lgCode));
    }
    return keys;
  }

  /**
   * The keys of a municipality already loaded by `forMunicipality`, synchronously: for code inside a
   * transaction that loaded them before opening it. Throws when they were not loaded (a programming error).
   */
  loaded(lgCode: string): MunicipalityKeys {
    const keys = this.ready.get(lgCode);
    if (!keys) throw new Error(`data keys of ${lgCode} used before forMunicipality()`);
    return keys;
  }

  async encrypt(lgCode: string, binding: FieldBinding, plaintext: string): Promise<Buffer> {
    return (await this.forMunicipality(lgCode)).encrypt(binding, plaintext);
  }

  async decrypt(lgCode: string, binding: FieldBinding, stored: Uint8Array): Promise<string> {
    return (await this.forMunicipality(lgCode)).decrypt(binding, stored);
  }

  async blindIndex(lgCode: string, value: string, domain?: string): Promise<Buffer> {
    return (await this.forMunicipality(lgCode)).blindIndex(value, domain);
  }

  private async load(lgCode: string): Promise<MunicipalityKeys> {
    let rows = await this.rowsOf(lgCode);
    const missing = PURPOSES.filter((p) => !rows.some((r) => r.purpose === p));
    if (missing.length > 0) {
      const kekId = await this.provider.currentKekId();
      const values = [];
      for (const purpose of missing) {
        const wrapped = await this.provider.wrap(randomBytes(KEY_BYTES), dataKeyContext(lgCode, purpose, 1));
        if (wrapped.kekId !== kekId) throw new Error('key provider changed its current KEK while wrapping');
        values.push({
          lg_code: lgCode,
          purpose,
          version: 1,
          kek_id: wrapped.kekId,
          wrapped: wrapped.wrapped,
        });
      }
      // ON CONFLICT DO NOTHING: another process that created them first wins; everybody reads its keys.
      await this.db
        .insertInto('data_key')
        .values(values)
        .onConflict((oc) => oc.columns(['lg_code', 'purpose', 'version']).doNothing())
        .execute();
      rows = await this.rowsOf(lgCode);
    }
    const fieldKeys = new Map<number, Buffer>();
    let indexKey: Buffer | undefined;
    for (const r of rows) {
      const key = await this.provider.unwrap(
        { kekId: r.kek_id, wrapped: Buffer.from(r.wrapped) },
        dataKeyContext(lgCode, r.purpose, r.version),
      );
      if (key.length !== KEY_BYTES) throw new Error('data key of the wrong length');
      if (r.purpose === 'field') fieldKeys.set(r.version, key);
      else if (r.version === 1) indexKey = key; // the index key never changes: indexes must stay comparable
    }
    if (fieldKeys.size === 0 || !indexKey) throw new Error('data keys missing after creation');
    return new MunicipalityKeys(lgCode, fieldKeys, indexKey);
  }

  private rowsOf(lgCode: string) {
    return this.db
      .selectFrom('data_key')
      .select(['purpose', 'version', 'kek_id', 'wrapped'])
      .where('lg_code', '=', lgCode)
      .execute();
  }

  /** Every data key with the KEK wrapping it (no key material). */
  async describe(): Promise<DataKeyInfo[]> {
    const rows = await this.db
      .selectFrom('data_key')
      .select(['lg_code', 'purpose', 'version', 'kek_id', 'created_at', 'rewrapped_at'])
      .orderBy('lg_code')
      .orderBy('purpose')
      .orderBy('version')
      .execute();
    return rows.map((r) => ({
      lgCode: r.lg_code,
      purpose: r.purpose,
      version: r.version,
      kekId: r.kek_id,
      createdAt: r.created_at,
      rewrappedAt: r.rewrapped_at,
    }));
  }

  /** How many data keys are still wrapped by this KEK (a KEK may be retired only at zero). */
  async countWrappedBy(kekId: string): Promise<number> {
    const row = await this.db
      .selectFrom('data_key')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kek_id', '=', kekId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Re-wraps every data key under the provider's current KEK, in one transaction, while the system
   * serves: each key is unwrapped with the KEK that wrapped it, wrapped under the current one, and the new
   * form is unwrapped again and compared before it is written. The data keys do not change. `within`
   * runs in the same transaction once every key is done (the caller's access-log entry), so the log
   * records a rotation exactly when it happened.
   */
  async rotate(
    within?: (trx: Transaction<Database>, result: RotationResult) => Promise<void>,
  ): Promise<RotationResult> {
    const kekId = await this.provider.currentKekId();
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('data_key')
        .select(['lg_code', 'purpose', 'version', 'kek_id', 'wrapped'])
        .orderBy('lg_code')
        .orderBy('purpose')
        .orderBy('version')
        .forUpdate()
        .execute();
      const keys: Array<RotationResult['keys'][number]> = [];
      for (const r of rows) {
        const context = dataKeyContext(r.lg_code, r.purpose, r.version);
        const key = await this.provider.unwrap({ kekId: r.kek_id, wrapped: Buffer.from(r.wrapped) }, context);
        const wrapped = await this.provider.wrap(key, context);
        const check = await this.provider.unwrap(wrapped, context);
        if (wrapped.kekId !== kekId || !check.equals(key)) {
          throw new DomainError(
            'KEY_ROTATION_FAILED',
            '鍵の再ラップを検証できませんでした。鍵は変更していません。鍵管理の設定を確認してください。',
            { lgCode: r.lg_code, purpose: r.purpose },
          );
        }
        await trx
          .updateTable('data_key')
          .set({ kek_id: wrapped.kekId, wrapped: wrapped.wrapped, rewrapped_at: sql<Date>`now()` })
          .where('lg_code', '=', r.lg_code)
          .where('purpose', '=', r.purpose)
          .where('version', '=', r.version)
          .execute();
        keys.push({
          lgCode: r.lg_code,
          purpose: r.purpose,
          version: r.version,
          from: r.kek_id,
        });
      }
      const result = { kekId, keys };
      if (within) await within(trx, result);
      return result;
    });
  }
}
