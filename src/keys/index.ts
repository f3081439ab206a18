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
