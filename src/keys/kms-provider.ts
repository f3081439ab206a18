/**
 * A key provider over a cloud key-management service with customer-managed keys (the municipality's own
 * key, in its own account or project). The KEK never leaves the KMS: Jumin sends a 32-byte data key to be
 * encrypted or decrypted and binds the municipality and purpose as the encryption context, so a wrapped
 * key copied to another municipality does not decrypt, and the KMS's own audit log records every use. The
 * cloud operator running Jumin cannot read the data without the municipality's key, and the
 * municipality can revoke it.
 *
 * Jumin ships no cloud SDK: the deployment supplies a `KmsClient` (a few lines over its SDK) in an ES
 * module named by `JUMIN_KMS_CLIENT_MODULE`, exporting `createKmsClient(): KmsClient | Promise<KmsClient>`.
 *
 * AWS KMS (`@aws-sdk/client-kms`), key id = key ARN or alias ARN:
 *
 * ```ts
 * const kms = new KMSClient({});
 * export const createKmsClient = () => ({
 *   async encrypt({ keyId, plaintext, context }) {
 *     const r = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }));
 *     return { ciphertext: Buffer.from(r.CiphertextBlob!) };
 *   },
 *   async decrypt({ keyId, ciphertext, context }) {
 *     const r = await kms.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob: ciphertext, EncryptionContext: context }));
 *     return Buffer.from(r.Plaintext!);
 *   },
 * });
 * ```
 *
 * Google Cloud KMS (`@google-cloud/kms`), key id = `projects/…/locations/…/keyRings/…/cryptoKeys/…`; the
 * context goes in as additional authenticated data (`contextBytes(context)` from `src/keys`):
 *
 * ```ts
 * const kms = new KeyManagementServiceClient();
 * export const createKmsClient = () => ({
 *   async encrypt({ keyId, plaintext, context }) {
 *     const [r] = await kms.encrypt({ name: keyId, plaintext, additionalAuthenticatedData: contextBytes(context) });
 *     return { ciphertext: Buffer.from(r.ciphertext as Uint8Array) };
 *   },
 *   async decrypt({ keyId, ciphertext, context }) {
 *     const [r] = await kms.decrypt({ name: keyId, ciphertext, additionalAuthenticatedData: contextBytes(context) });
 *     return Buffer.from(r.plaintext as Uint8Array);
 *   },
 * });
 * ```
 *
 * Rotation: rotating the key material inside the KMS (automatic yearly rotation) needs nothing from Jumin;
 * `jumin keys rotate` re-wraps every data key with the newest material. To move to another key, set
 * `JUMIN_KMS_KEY_ID` to the new key and run `jumin keys rotate`: each wrapped key names the key that
 * wrapped it, so old and new keys both work until the rotation is done; then disable the old key.
 */
import { DomainError } from '../shared/index.js';
import { unwrapFailed, type KeyContext, type KeyProvider, type WrappedKey } from './key-provider.js';

/** The two calls Jumin needs from a KMS. Errors of any kind mean "could not". */
export interface KmsClient {
  encrypt(request: {
    keyId: string;
    plaintext: Buffer;
    context: KeyContext;
  }): Promise<{ ciphertext: Buffer }>;
  decrypt(request: { keyId: string; ciphertext: Buffer; context: KeyContext }): Promise<Buffer>;
}

const PREFIX = 'kms:';

export class KmsKeyProvider implements KeyProvider {
  constructor(
    private readonly client: KmsClient,
    /** The customer-managed key new wraps use. */
    private readonly keyId: string,
  ) {
    if (!keyId) {
      throw new DomainError('KMS_KEY_ID_MISSING', 'KMS の鍵 ID（JUMIN_KMS_KEY_ID）を設定してください。');
    }
  }

  currentKekId(): Promise<string> {
    return Promise.resolve(`${PREFIX}${this.keyId}`);
  }

  async wrap(plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey> {
    try {
      const { ciphertext } = await this.client.encrypt({
        keyId: this.keyId,
        plaintext: plaintextKey,
        context,
      });
      return { kekId: `${PREFIX}${this.keyId}`, wrapped: Buffer.from(ciphertext) };
    } catch {
      // The KMS's message may name the key or the account; keep it out of our errors.
      throw new DomainError(
        'KMS_UNAVAILABLE',
        '鍵管理サービス（KMS）で鍵を暗号化できませんでした。KMS の設定と権限を確認してください。',
        { kekId: `${PREFIX}${this.keyId}` },
      );
    }
  }

  async unwrap(key: WrappedKey, context: KeyContext): Promise<Buffer> {
    if (!key.kekId.startsWith(PREFIX)) throw unwrapFailed(key.kekId);
    try {
      return Buffer.from(
        await this.client.decrypt({
          keyId: key.kekId.slice(PREFIX.length),
          ciphertext: key.wrapped,
          context,
        }),
      );
    } catch {
      throw unwrapFailed(key.kekId);
    }
  }
}
