/**
 * A staff member's TOTP secret at rest: AES-256-GCM under the municipality's data key (src/keys), bound
 * to (lg_code, staff, totp_secret, staff_id), stored as base64 text. A copy of the database alone gives
 * nobody the second factor of any account.
 */
import type { MunicipalityKeys } from '../keys/index.js';

const binding = (staffId: string) => ({ table: 'staff', column: 'totp_secret', row: staffId });

export function sealTotpSecret(keys: MunicipalityKeys, staffId: string, secret: string): string {
  return keys.encrypt(binding(staffId), secret).toString('base64');
}

export function openTotpSecret(keys: MunicipalityKeys, staffId: string, stored: string): string {
  return keys.decrypt(binding(staffId), Buffer.from(stored, 'base64'));
}
