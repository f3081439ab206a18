/**
 * Key providers hold the municipality's key-encryption keys (KEK) outside the database. The system never
 * stores a data key in clear: it asks the provider to wrap a fresh data key and keeps only the wrapped
 * form, and asks it to unwrap that form when it needs the key. A cloud KMS with customer-held keys fits
 * the same interface (see `kms-provider.ts`); the local provider below keeps versioned KEKs in a file
 * for the embedded quick start, tests and small on-premises installations.
 *
 * `context` is bound to the wrapped key (as associated data for the local provider, as the encryption
 * context of a KMS): a wrapped key copied to another municipality or purpose does not unwrap.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DomainError } from '../shared/index.js';

export type KeyContext = Readonly<Record<string, string>>;

export interface WrappedKey {
  /** Which KEK wrapped it, e.g. `local:3` or a KMS key version name. */
  readonly kekId: string;
  readonly wrapped: Buffer;
}

export interface KeyProvider {
  /** The KEK new wraps use. */
  currentKekId(): Promise<string>;
  wrap(plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey>;
  /** Throws KEY_UNWRAP_FAILED when the KEK is unknown, the bytes were altered or the context differs. */
  unwrap(key: WrappedKey, context: KeyContext): Promise<Buffer>;
}

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Canonical associated data of a context: keys sorted, so the same context always gives the same bytes. */
export function contextBytes(context: KeyContext): Buffer {
  const entries = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

export function unwrapFailed(kekId: string): DomainError {
  return new DomainError(
    'KEY_UNWRAP_FAILED',
    '暗号鍵を復号できませんでした（鍵の不一致または改ざんの可能性があります）。運用管理者に連絡してください。',
    { kekId },
  );
}

/**
 * KEKs in a local file, one per line: `<version> <base64 of 32 bytes>`; the highest version is current.
 * Rotation appends a new version; older versions stay until every data key has been re-wrapped and the
 * operator retires them. The file lives outside the database and outside backups (mode 0600).
 */
export class LocalKeyProvider implements KeyProvider {
  /** Size and modification time of the file when last read: a change means another process rotated. */
  private seen = '';

  private constructor(
    readonly file: string,
    private versions: Map<number, Buffer>,
  ) {
    this.seen = this.fileStamp();
  }

  /** Opens the KEK file; creates it with one fresh KEK only when `create` is allowed (development, test). */
  static open(file: string, options: { create: boolean }): LocalKeyProvider {
    let text: string | undefined;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) {
      if (!options.create) {
        throw new DomainError(
          'MASTER_KEY_MISSING',
          '鍵暗号化鍵（マスター鍵）のファイルがありません。運用管理者が鍵を配置してから起動してください。',
          { file },
        );
      }
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        // 'wx': never overwrite a key file another process created meanwhile.
        fs.writeFileSync(file, `1 ${randomBytes(KEY_BYTES).toString('base64')}\n`, {
          mode: 0o600,
          flag: 'wx',
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      text = fs.readFileSync(file, 'utf8');
    }
    return new LocalKeyProvider(file, parseKekFile(text, file));
  }

  /** An in-memory provider for tests that need no file. */
  static ephemeral(): LocalKeyProvider {
    return new LocalKeyProvider('', new Map([[1, randomBytes(KEY_BYTES)]]));
  }

  private fileStamp(): string {
    if (!this.file) return '';
    try {
      const st = fs.statSync(this.file);
      return `${st.size}:${st.mtimeMs}`;
    } catch {
      return '';
    }
  }

  /**
   * Re-reads the file when it changed since it was last read: a server started before `jumin keys rotate`
   * (another process) then wraps new keys under the new KEK and unwraps keys re-wrapped by the rotation.
   * A file that became unreadable or invalid keeps the versions already known.
   */
  private refresh(): void {
    const stamp = this.fileStamp();
    if (!this.file || stamp === this.seen || stamp === '') return;
    try {
      this.versions = parseKekFile(fs.readFileSync(this.file, 'utf8'), this.file);
      this.seen = stamp;
    } catch {
      // keep what we had; the next call tries again
    }
  }

  private currentVersion(): number {
    return Math.max(...this.versions.keys());
  }

  /** The KEK versions known, oldest first (e.g. `local:1`, `local:2`). */
  kekIds(): string[] {
    this.refresh();
    return [...this.versions.keys()].sort((a, b) => a - b).map((v) => `local:${v}`);
  }

  currentKekId(): Promise<string> {
    this.refresh();
    return Promise.resolve(`local:${this.currentVersion()}`);
  }

  /** Adds a new KEK version (appended to the file when file-backed) and makes it current. */
  addVersion(): string {
    this.refresh();
    const version = this.currentVersion() + 1;
    const kek = randomBytes(KEY_BYTES);
    if (this.file) fs.appendFileSync(this.file, `${version} ${kek.toString('base64')}\n`, { mode: 0o600 });
    this.versions.set(version, kek);
    this.seen = this.fileStamp();
    return `local:${version}`;
  }

  /**
   * Removes a KEK version from the file (retirement after a rotation). The caller checks first that no
   * data key is still wrapped by it; the current version cannot be removed.
   */
  removeVersion(kekId: string): void {
    this.refresh();
    const match = /^local:(\d+)$/.exec(kekId);
    const version = match ? Number(match[1]) : NaN;
    if (!this.versions.has(version)) {
      throw new DomainError('KEK_UNKNOWN', `鍵暗号化鍵 ${kekId} はこの鍵ファイルにありません。`, { kekId });
    }
    if (version === this.currentVersion()) {
      throw new DomainError('KEK_CURRENT', '現在の鍵暗号化鍵は削除できません。', { kekId });
    }
    this.versions.delete(version);
    if (this.file) {
      const text = [...this.versions.entries()]
        .sort(([a], [b]) => a - b)
        .map(([v, k]) => `${v} ${k.toString('base64')}\n`)
        .join('');
      // Write a new file and rename it over the old one: a crash leaves one whole file or the other.
      const tmp = `${this.file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, text, { mode: 0o600, flag: 'w' });
      fs.renameSync(tmp, this.file);
      this.seen = this.fileStamp();
    }
  }

  wrap(plaintextKey: Buffer, context: KeyContext): Promise<WrappedKey> {
    this.refresh();
    const version = this.currentVersion();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.versions.get(version)!, iv);
    cipher.setAAD(contextBytes(context));
    const body = Buffer.concat([cipher.update(plaintextKey), cipher.final()]);
    return Promise.resolve({
      kekId: `local:${version}`,
      wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]),
    });
  }

  unwrap(key: WrappedKey, context: KeyContext): Promise<Buffer> {
    const match = /^local:(\d+)$/.exec(key.kekId);
    if (match && !this.versions.has(Number(match[1]))) this.refresh();
    const kek = match ? this.versions.get(Number(match[1])) : undefined;
    if (!kek || key.wrapped.length < IV_BYTES + TAG_BYTES + 1) return Promise.reject(unwrapFailed(key.kekId));
    try {
      const decipher = createDecipheriv('aes-256-gcm', kek, key.wrapped.subarray(0, IV_BYTES));
      decipher.setAAD(contextBytes(context));
      decipher.setAuthTag(key.wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Promise.resolve(
        Buffer.concat([decipher.update(key.wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]),
      );
    } catch {
      return Promise.reject(unwrapFailed(key.kekId));
    }
  }
}

function parseKekFile(text: string, file: string): Map<number, Buffer> {
  const versions = new Map<number, Buffer>();
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^(\d+) ([A-Za-z0-9+/=]+)$/.exec(line.trim());
    const kek = m ? Buffer.from(m[2]!, 'base64') : undefined;
    if (!m || !kek || kek.length !== KEY_BYTES) {
      throw new DomainError(
        'MASTER_KEY_INVALID',
        '鍵暗号化鍵（マスター鍵）のファイルの形式が正しくありません（各行「版 base64鍵」）。',
        { file },
      );
    }
    versions.set(Number(m[1]), kek);
  }
  if (versions.size === 0) {
    throw new DomainError('MASTER_KEY_INVALID', '鍵暗号化鍵（マスター鍵）のファイルに鍵がありません。', {
      file,
    });
  }
  return versions;
}
