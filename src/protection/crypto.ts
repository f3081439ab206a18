/**
 * Encryption of protection details at rest, with the municipality's field data key from the keyring
 * (src/keys: AES-256-GCM, per-municipality data keys wrapped by the key provider). The associated data
 * names the municipality, table, column and row a value belongs to, so a ciphertext copied to another row
 * (or column, or municipality) fails to decrypt instead of showing the wrong case's details.
 *
 * The services load the municipality's keys (`keyring.forMunicipality`) before opening their transaction;
 * these helpers then work synchronously inside it.
 */
import type { Keyring } from '../keys/index.js';
import { DomainError } from '../shared/index.js';

/** Where an encrypted value lives; bound into the ciphertext as associated data. */
export interface FieldBinding {
  readonly lgCode: string;
  readonly table: string;
  readonly column: string;
  readonly rowId: number;
}

export function encryptField(keyring: Keyring, plaintext: string, b: FieldBinding): Buffer {
  return keyring.loaded(b.lgCode).encrypt({ table: b.table, column: b.column, row: b.rowId }, plaintext);
}

/** Throws DETAILS_UNREADABLE when the value was altered, moved to another row, or encrypted under another key. */
export function decryptField(keyring: Keyring, stored: Uint8Array, b: FieldBinding): string {
  try {
    return keyring.loaded(b.lgCode).decrypt({ table: b.table, column: b.column, row: b.rowId }, stored);
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    // Which row and column only: the value itself never goes into an error.
    throw new DomainError(
      'DETAILS_UNREADABLE',
      '保護情報を復号できませんでした（改ざんまたは鍵の不一致の可能性があります）。システム管理者に連絡してください。',
      { table: b.table, column: b.column, rowId: b.rowId },
    );
  }
}
