/**
 * Opens the configured key provider: the local KEK file (created on first start outside production) or
 * the municipality's KMS through the deployment's own client module.
 */
import { pathToFileURL } from 'node:url';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { DomainError } from '../shared/index.js';
import { LocalKeyProvider, type KeyProvider } from './key-provider.js';
import { Keyring } from './keyring.js';
import { KmsKeyProvider, type KmsClient } from './kms-provider.js';

export async function openKeyProvider(config: Pick<Config, 'env' | 'keys'>): Promise<KeyProvider> {
  const keys = config.keys;
  if (keys.provider === 'local') {
    return LocalKeyProvider.open(keys.masterKeyFile, { create: config.env !== 'production' });
  }
  if (!keys.kmsKeyId || !keys.kmsClientModule) {
    throw new DomainError(
      'KMS_CLIENT_MISSING',
      'JUMIN_KEY_PROVIDER=kms には KMS の鍵 ID（JUMIN_KMS_KEY_ID）とクライアントのモジュール（JUMIN_KMS_CLIENT_MODULE）が必要です。',
    );
  }
  const mod = (await import(pathToFileURL(keys.kmsClientModule).href)) as {
    createKmsClient?: () => KmsClient | Promise<KmsClient>;
  };
  if (typeof mod.createKmsClient !== 'function') {
    throw new DomainError(
      'KMS_CLIENT_MISSING',
      'JUMIN_KMS_CLIENT_MODULE のモジュールが createKmsClient() を公開していません。',
      { module: keys.kmsClientModule },
    );
  }
  return new KmsKeyProvider(await mod.createKmsClient(), keys.kmsKeyId);
}

/** The keyring of a deployment: its database and its configured key provider. */
export async function openKeyring(db: Db, config: Pick<Config, 'env' | 'keys'>): Promise<Keyring> {
  return new Keyring(db, await openKeyProvider(config));
}
