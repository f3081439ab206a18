/** For tests: a keyring over an in-memory KEK (real crypto, no file). */
import type { Db } from '../db/index.js';
import { LocalKeyProvider } from './key-provider.js';
import { Keyring } from './keyring.js';

const keyrings = new WeakMap<Db, Keyring>();

/**
 * The test keyring of a database: one per database, so every service a test builds on it (and the app)
 * reads what the others wrote.
 */
export function testKeyring(db: Db): Keyring {
  let keyring = keyrings.get(db);
  if (!keyring) {
    keyring = new Keyring(db, LocalKeyProvider.ephemeral());
    keyrings.set(db, keyring);
  }
  return keyring;
}
