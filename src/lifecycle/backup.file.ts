/**
 * Backup files on disk: written as data → gzip → AES-256-GCM → a temporary name, then renamed (a crash
 * never leaves a half file under a backup's name); read back with every check a refusal needs — the
 * `.sha256` file, the format, the key, the GCM tag, the body's structure and its per-table checksums.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, createGzip } from 'node:zlib';
import type { KeyProvider } from '../keys/index.js';
import { DomainError, isDomainError } from '../shared/index.js';
import {
  CHECKSUM_SUFFIX,
  ContentChecksum,
  DONE_LINE,
  END_LINE,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  PREAMBLE_BYTES,
  SEQUENCE_LINE,
  SequenceValue,
  TABLE_LINE,
  TableSummary,
  backupKeyContext,
  checksumLine,
  encodeHeader,
  headerLengthOf,
  parseChecksumLine,
  parseHeader,
  tempFileName,
  type BackupHeader,
} from './backup.js';

const FILE_KEY_BYTES = 32;

export const backupErrors = {
  notFound: (file: string) =>
    new DomainError(
      'BACKUP_NOT_FOUND',
      'バックアップファイルが見つかりません。ファイル名を確認してください。',
      {
        file,
      },
    ),
  invalid: (file: string) =>
    new DomainError(
      'BACKUP_FORMAT_INVALID',
      'Jumin のバックアップファイルではないか、形式が壊れています。このファイルは使用できません。',
      { file },
    ),
  checksum: (file: string) =>
    new DomainError(
      'BACKUP_CHECKSUM_MISMATCH',
      'バックアップファイルのチェックサムが一致しません（破損または改ざん）。別の保管場所の写しを使ってください。',
      { file },
    ),
  key: (file: string, kekId: string) =>
    new DomainError(
      'BACKUP_KEY_REFUSED',
      'このバックアップの暗号鍵を復号できません（別のマスター鍵で作られたか、改ざんされています）。使用を拒否しました。',
      { file, kekId },
    ),
  corrupt: (file: string, reason: string) =>
    new DomainError(
      'BACKUP_CORRUPT',
      'バックアップファイルが破損しているか途中で切れています（認証タグまたは内容の検査に失敗）。別の保管場所の写しを使ってください。',
      { file, reason },
    ),
};

/** What writing a backup's body needs: its lines, produced while the file is written (streamed). */
export interface WrittenFile {
  readonly file: string;
  readonly name: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Writes `header` and the encrypted, compressed `lines` to `dir/name` through a temporary file, then the
 * `.sha256` file. `header` is completed here with the wrapped file key and the IV.
 */
export async function writeBackupFile(
  dir: string,
  name: string,
  header: Omit<BackupHeader, 'kekId' | 'wrappedKey' | 'iv'>,
  keys: KeyProvider,
  lines: AsyncIterable<string>,
): Promise<WrittenFile> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const fileKey = randomBytes(FILE_KEY_BYTES);
  const iv = randomBytes(GCM_IV_BYTES);
  const wrapped = await keys.wrap(fileKey, backupKeyContext(header.backupId));
  const headerBytes = encodeHeader({
    ...header,
    kekId: wrapped.kekId,
    wrappedKey: wrapped.wrapped.toString('base64'),
    iv: iv.toString('base64'),
  });
  const cipher = createCipheriv('aes-256-gcm', fileKey, iv);
  cipher.setAAD(headerBytes);
  fileKey.fill(0);

  const temp = path.join(dir, tempFileName(name, `${process.pid}-${randomBytes(4).toString('hex')}`));
  const hash = createHash('sha256').update(headerBytes);
  let bytes = headerBytes.length;
  try {
    await fsp.writeFile(temp, headerBytes, { flag: 'wx', mode: 0o600 });
    await pipeline(
      Readable.from(lines),
      createGzip(),
      cipher,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      }),
      fs.createWriteStream(temp, { flags: 'a' }),
    );
    const tag = cipher.getAuthTag();
    hash.update(tag);
    bytes += tag.length;
    const out = await fsp.open(temp, 'a');
    try {
      await out.write(tag);
      await out.sync();
    } finally {
      await out.close();
    }
    const sha256 = hash.digest('hex');
    const file = path.join(dir, name);
    await fsp.rename(temp, file);
    await writeChecksumFile(file, sha256);
    return { file, name, sha256, bytes };
  } catch (e) {
    await fsp.rm(temp, { force: true });
    throw e;
  }
}

/** Writes `<file>.sha256` (sha256sum format) through a temporary name. */
export async function writeChecksumFile(file: string, sha256: string): Promise<void> {
  const name = path.basename(file);
  const temp = path.join(path.dirname(file), tempFileName(`${name}${CHECKSUM_SUFFIX}`, String(process.pid)));
  await fsp.writeFile(temp, checksumLine(sha256, name), { mode: 0o600 });
  await fsp.rename(temp, `${file}${CHECKSUM_SUFFIX}`);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Copies a finished backup into another folder: streamed through a temporary name, the bytes read from
 * the source checked against `sha256`, the copy read back and checked again, then renamed and given its
 * own `.sha256` file. The folder must exist unless `create` allows making it.
 */
export async function copyBackupFile(
  file: string,
  toDir: string,
  sha256: string,
  options: { create: boolean },
): Promise<string> {
  if (options.create) await fsp.mkdir(toDir, { recursive: true, mode: 0o700 });
  const name = path.basename(file);
  const target = path.join(toDir, name);
  const temp = path.join(toDir, tempFileName(name, `${process.pid}-${randomBytes(4).toString('hex')}`));
  const read = createHash('sha256');
  try {
    await pipeline(
      fs.createReadStream(file),
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          read.update(chunk);
          done(null, chunk);
        },
      }),
      fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 }),
    );
    const out = await fsp.open(temp, 'r+');
    try {
      await out.sync();
    } finally {
      await out.close();
    }
    if (read.digest('hex') !== sha256) throw backupErrors.checksum(file);
    if ((await sha256OfFile(temp)) !== sha256) throw backupErrors.checksum(target);
    await fsp.rename(temp, target);
    await writeChecksumFile(target, sha256);
    return target;
  } catch (e) {
    await fsp.rm(temp, { force: true });
    throw e;
  }
}

export interface OpenedHeader {
  readonly header: BackupHeader;
  readonly headerBytes: Buffer;
  readonly size: number;
}

/** Reads and checks the preamble and header (no key needed). */
export async function readBackupHeader(file: string): Promise<OpenedHeader> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw backupErrors.notFound(path.basename(file));
    throw e;
  }
  try {
    const { size } = await handle.stat();
    const preamble = Buffer.alloc(PREAMBLE_BYTES);
    const { bytesRead } = await handle.read(preamble, 0, PREAMBLE_BYTES, 0);
    const length = bytesRead === PREAMBLE_BYTES ? headerLengthOf(preamble) : undefined;
    if (length === undefined) throw backupErrors.invalid(path.basename(file));
    const json = Buffer.alloc(length);
    const read = await handle.read(json, 0, length, PREAMBLE_BYTES);
    if (read.bytesRead !== length) throw backupErrors.corrupt(path.basename(file), 'truncated');
    const header = parseHeader(json);
    if (!header) throw backupErrors.invalid(path.basename(file));
    if (size < PREAMBLE_BYTES + length + GCM_TAG_BYTES + 1) {
      throw backupErrors.corrupt(path.basename(file), 'truncated');
    }
    return { header, headerBytes: Buffer.concat([preamble, json]), size };
  } finally {
    await handle.close();
  }
}

/**
 * The `.sha256` file next to a backup: 'ok' when it matches, 'missing' when there is none (the GCM tag
 * still guards the content); a mismatch is refused.
 */
export async function checkChecksumFile(file: string): Promise<{ status: 'ok' | 'missing'; sha256: string }> {
  const sha256 = await sha256OfFile(file);
  let text: string;
  try {
    text = await fsp.readFile(`${file}${CHECKSUM_SUFFIX}`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', sha256 };
    throw e;
  }
  if (parseChecksumLine(text) !== sha256) throw backupErrors.checksum(path.basename(file));
  return { status: 'ok', sha256 };
}

/** What a reader of a backup's body is told, in order. Rows come in batches. */
export interface BodyHandlers {
  table?(name: string): Promise<void> | void;
  rows?(table: string, rows: string[]): Promise<void>;
  sequence?(value: SequenceValue): Promise<void> | void;
}

export interface BodyContent {
  readonly tables: TableSummary[];
  readonly sequences: SequenceValue[];
  readonly rows: number;
}

const BATCH_ROWS = 1000;
const BATCH_CHARS = 4 * 1024 * 1024;

/**
 * Decrypts, decompresses and reads a backup's body, checking its structure and recomputing every
 * table's row count and content checksum against its `#end` line. Nothing read may be trusted until this
 * resolves: the GCM tag is checked at the end of the stream (a restore reads inside a transaction that
 * rolls back when this rejects).
 */
export async function readBackupBody(
  file: string,
  opened: OpenedHeader,
  keys: KeyProvider,
  handlers: BodyHandlers = {},
): Promise<BodyContent> {
  const name = path.basename(file);
  const { header, headerBytes, size } = opened;
  let fileKey: Buffer;
  try {
    fileKey = await keys.unwrap(
      { kekId: header.kekId, wrapped: Buffer.from(header.wrappedKey, 'base64') },
      backupKeyContext(header.backupId),
    );
  } catch (e) {
    if (isDomainError(e) && e.code === 'KEY_UNWRAP_FAILED') throw backupErrors.key(name, header.kekId);
    throw e;
  }
  const iv = Buffer.from(header.iv, 'base64');
  if (iv.length !== GCM_IV_BYTES || fileKey.length !== FILE_KEY_BYTES) throw backupErrors.invalid(name);

  const tag = Buffer.alloc(GCM_TAG_BYTES);
  const handle = await fsp.open(file, 'r');
  try {
    await handle.read(tag, 0, GCM_TAG_BYTES, size - GCM_TAG_BYTES);
  } finally {
    await handle.close();
  }
  const decipher = createDecipheriv('aes-256-gcm', fileKey, iv);
  decipher.setAAD(headerBytes);
  decipher.setAuthTag(tag);
  fileKey.fill(0);

  const parser = new BodyParser(name, handlers);
  try {
    await pipeline(
      fs.createReadStream(file, { start: headerBytes.length, end: size - GCM_TAG_BYTES - 1 }),
      decipher,
      createGunzip(),
      async (source: AsyncIterable<Buffer>) => {
        const decoder = new StringDecoder('utf8');
        let pending = '';
        for await (const chunk of source) {
          pending += decoder.write(chunk);
          let start = 0;
          for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
            await parser.line(pending.slice(start, end));
            start = end + 1;
          }
          pending = pending.slice(start);
        }
        pending += decoder.end();
        if (pending.length > 0) throw backupErrors.corrupt(name, 'unterminated line');
      },
    );
  } catch (e) {
    if (e instanceof HandlerFailure) throw e.cause;
    if (isDomainError(e)) throw e;
    // The GCM tag, gzip or the stream failed: altered, truncated or made with other bytes.
    throw backupErrors.corrupt(name, 'authentication');
  }
  return parser.finish();
}

/** An error of the caller's handler (e.g. the database of a restore): not the file's fault. */
class HandlerFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('backup body handler failed');
  }
}

async function call(work: () => Promise<void> | void): Promise<void> {
  try {
    await work();
  } catch (e) {
    throw new HandlerFailure(e);
  }
}

/** The body's grammar: (#table, rows, #end)*, #sequence*, #done — nothing else, nothing after. */
class BodyParser {
  private table: string | undefined;
  private checksum = new ContentChecksum();
  private batch: string[] = [];
  private batchChars = 0;
  private done = false;
  private readonly tables: TableSummary[] = [];
  private readonly sequences: SequenceValue[] = [];
  private rows = 0;

  constructor(
    private readonly file: string,
    private readonly handlers: BodyHandlers,
  ) {}

  private fail(reason: string): DomainError {
    return backupErrors.corrupt(this.file, reason);
  }

  async line(text: string): Promise<void> {
    if (this.done) throw this.fail('data after the end');
    if (text.startsWith('{')) {
      if (this.table === undefined) throw this.fail('row outside a table');
      this.checksum.add(text);
      this.batch.push(text);
      this.batchChars += text.length;
      if (this.batch.length >= BATCH_ROWS || this.batchChars >= BATCH_CHARS) await this.flush();
      return;
    }
    if (text.startsWith(TABLE_LINE)) {
      if (this.table !== undefined) throw this.fail('table not ended');
      const { name } = this.control(text, TABLE_LINE) as { name?: unknown };
      if (typeof name !== 'string' || name.length === 0) throw this.fail('table without a name');
      if (this.tables.some((t) => t.name === name)) throw this.fail('table twice');
      this.table = name;
      this.checksum = new ContentChecksum();
      await call(() => this.handlers.table?.(name));
      return;
    }
    if (text.startsWith(END_LINE)) {
      const end = TableSummary.safeParse(this.control(text, END_LINE));
      if (!end.success || end.data.name !== this.table) throw this.fail('table end mismatch');
      await this.flush();
      if (end.data.rows !== this.checksum.rows || end.data.checksum !== this.checksum.hex()) {
        throw this.fail('table checksum mismatch');
      }
      this.tables.push(end.data);
      this.rows += end.data.rows;
      this.table = undefined;
      return;
    }
    if (text.startsWith(SEQUENCE_LINE)) {
      if (this.table !== undefined) throw this.fail('sequence inside a table');
      const s = SequenceValue.safeParse(this.control(text, SEQUENCE_LINE));
      if (!s.success) throw this.fail('sequence');
      this.sequences.push(s.data);
      await call(() => this.handlers.sequence?.(s.data));
      return;
    }
    if (text.startsWith(DONE_LINE)) {
      if (this.table !== undefined) throw this.fail('table not ended');
      const done = this.control(text, DONE_LINE) as { tables?: unknown; rows?: unknown };
      if (done.tables !== this.tables.length || done.rows !== this.rows) throw this.fail('totals mismatch');
      this.done = true;
      return;
    }
    throw this.fail('unknown line');
  }

  private control(text: string, prefix: string): unknown {
    try {
      return JSON.parse(text.slice(prefix.length)) as unknown;
    } catch {
      throw this.fail('control line');
    }
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0 || this.table === undefined) return;
    const rows = this.batch;
    this.batch = [];
    this.batchChars = 0;
    const table = this.table;
    await call(() => this.handlers.rows?.(table, rows));
  }

  finish(): BodyContent {
    if (!this.done) throw this.fail('truncated');
    return { tables: this.tables, sequences: this.sequences, rows: this.rows };
  }
}
