/**
 * Encryption of protection details at rest: AES-256-GCM under a 32-byte data key kept in a file outside the
 * database (base64). Each value gets a random 12-byte IV, and its associated data names the municipality,
 * table, column and row it belongs to, so a ciphertext copied to another row (or column, or municipality)
 * fails to decrypt instead of showing the wrong case's details.
 *
 * Stored form: version byte (1) ‖ IV (12) ‖ tag (16) ‖ ciphertext. Issue 6 replaces the file key with
 * per-tenant keys wrapped by a key provider; the version byte leaves room for that.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../shared/index.js';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Where an encrypted value lives; bound into the ciphertext as associated data. */
export interface FieldBinding {
  readonly lgCode: string;
  readonly table: string;
  readonly column: string;
  readonly rowId: number;
}

function aadOf(b: FieldBinding): Buffer {
  return Buffer.from(`jumin:v${VERSION}|${b.lgCode}|${b.table}|${b.column}|${b.rowId}`, 'utf8');
}

export function encryptField(key: Buffer, plaintext: string, binding: FieldBinding): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aadOf(binding));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

/** Throws DETAILS_UNREADABLE when the value was altered, moved to another row, or encrypted under another key. */
export function decryptField(key: Buffer, stored: Uint8Array, binding: FieldBinding): string {
  const data = Buffer.from(stored);
  try {
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== VERSION) throw new Error('format');
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aadOf(binding));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    // Which row and column only: the value itself never goes into an error.
    throw new DomainError(
      'DETAILS_UNREADABLE',
      '保護情報を復号できませんでした（改ざんまたは鍵の不一致の可能性があります）。システム管理者に連絡してください。',
      { table: binding.table, column: binding.column, rowId: binding.rowId },
    );
  }
}

/**
 * Reads the data key file (base64 of 32 bytes); creates it (mode 0600, folders 0700) only when `create`
 * is allowed — development and test. In production the operator provisions the key.
 */
export function loadOrCreateDataKey(file: string, options: { create: boolean }): Buffer {
  try {
    return keyFromText(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!options.create) {
    throw new DomainError(
      'DATA_KEY_MISSING',
      '保護情報の暗号鍵ファイルがありません。運用管理者が鍵を配置してから起動してください。',
      { file },
    );
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // 'wx': never overwrite a key another process created meanwhile.
    fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return keyFromText(fs.readFileSync(file, 'utf8'));
  }
  return key;
}

function keyFromText(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new DomainError(
      'DATA_KEY_INVALID',
      '保護情報の暗号鍵ファイルの形式が正しくありません（32バイトの鍵を base64 で記載）。',
    );
  }
  return key;
}
