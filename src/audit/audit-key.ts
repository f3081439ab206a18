/**
 * The audit key: an Ed25519 private key (PEM, PKCS#8) in a file outside the database. It signs checkpoints,
 * and an HMAC key for search criteria is derived from it with HKDF, so one secret file protects both and a
 * copy of the database alone can neither forge a checkpoint nor test guessed names against the log.
 * Replacing the file changes the criteria hashes from then on (older entries keep the old ones) and needs
 * the old public key to verify older checkpoints.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../shared/index.js';

export interface AuditKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** sha256 of the public key (SPKI DER), hex: names the key in each checkpoint. */
  readonly keyId: string;
  /** HMAC-SHA256 key for protectCriteria. */
  readonly criteriaKey: Buffer;
}

/** The fingerprint stored with each checkpoint. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function auditKeyFromPem(pem: string): AuditKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new DomainError('AUDIT_KEY_INVALID', '監査用の鍵ファイルが Ed25519 の秘密鍵ではありません。');
  }
  const publicKey = createPublicKey(privateKey);
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const criteriaKey = Buffer.from(hkdfSync('sha256', der, 'jumin-audit', 'criteria-hmac-v1', 32));
  return { privateKey, publicKey, keyId: keyIdOf(publicKey), criteriaKey };
}

/**
 * Reads the key file; creates it (mode 0600, folders 0700) only when `create` is allowed — development and
 * test. In production the operator provisions the key, and a missing file is an error.
 */
export function loadOrCreateAuditKey(file: string, options: { create: boolean }): AuditKey {
  try {
    return auditKeyFromPem(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!options.create) {
    throw new DomainError(
      'AUDIT_KEY_MISSING',
      '監査用の署名鍵ファイルがありません。運用管理者が鍵を配置してから起動してください。',
      { file },
    );
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  try {
    // 'wx': never overwrite a key another process created meanwhile.
    fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return auditKeyFromPem(fs.readFileSync(file, 'utf8'));
  }
  return auditKeyFromPem(pem);
}

/** The public key in PEM, for verifiers who must not hold the private key. */
export function publicKeyPem(key: AuditKey): string {
  return key.publicKey.export({ type: 'spki', format: 'pem' }) as string;
}

/** A verifier's public key from PEM (SPKI) — or from a private key PEM, whose public half is used. */
export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}
