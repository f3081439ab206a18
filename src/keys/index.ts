/**
 * Keys: envelope encryption and key providers. What other modules and the app may use.
 */
export {
  KEY_BYTES,
  LocalKeyProvider,
  contextBytes,
  unwrapFailed,
  type KeyContext,
  type KeyProvider,
  type WrappedKey,
} from './key-provider.js';
export { KmsKeyProvider, type KmsClient } from './kms-provider.js';
export {
  CIPHERTEXT_FORMAT,
  Keyring,
  MunicipalityKeys,
  dataKeyContext,
  dataUnreadable,
  type DataKeyInfo,
  type DataKeyPurpose,
  type FieldBinding,
  type MunicipalityKeyMaterial,
  type RotationResult,
} from './keyring.js';
export { openKeyProvider, openKeyring } from './open.js';
export { registerKeyCommands, type KeyCommandDeps } from './keys.cli.js';

/** HTTP statuses of this module's error codes (all are operator problems, never the clerk's). */
export const KEYS_ERROR_STATUS: Readonly<Record<string, number>> = {
  DATA_UNREADABLE: 500,
  KEY_UNWRAP_FAILED: 500,
  MASTER_KEY_MISSING: 500,
  MASTER_KEY_INVALID: 500,
  KMS_UNAVAILABLE: 503,
  KMS_CLIENT_MISSING: 500,
  KMS_KEY_ID_MISSING: 500,
  KEY_ROTATION_FAILED: 500,
  KEK_UNKNOWN: 400,
  KEK_CURRENT: 409,
  KEK_IN_USE: 409,
};
