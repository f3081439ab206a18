/**
 * Backups (バックアップ): the file format, names, the content checksum, retention and the daily schedule.
 * Pure: no database, no file system, no clock.
 *
 * A backup file is
 *
 *   magic `JUMINBAK` (8 bytes) | format version (1 byte) | header length (uint32 BE) | header (JSON)
 *   | body: JSON lines → gzip → AES-256-GCM | GCM tag (16 bytes)
 *
 * The header is in clear (an operator can see what a file is without the key) but it is the associated
 * data of the encryption, so no byte of it can change unnoticed. It names the key-encryption key and holds
 * the per-backup file key wrapped by it, bound to purpose `backup` and the backup's id. The body holds, per
 * table in foreign-key order, a `#table` line, one line per row (`to_jsonb(row)` with the session in UTC)
 * and an `#end` line with the row count and content checksum; then `#sequence` lines for free-standing
 * sequences and a final `#done` line. Row counts and checksums are only known once the rows are written,
 * so they travel inside the encrypted, authenticated body (and in the result of a run), not in the header.
 * A `.sha256` file next to the backup (in `sha256sum` format) holds the SHA-256 of the whole file.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { addDays, daysBetween, parsePlainDate, type PlainDate } from '../shared/index.js';

export const BACKUP_MAGIC = Buffer.from('JUMINBAK', 'ascii');
export const BACKUP_FORMAT_VERSION = 1;
/** Magic, version and the header's length. */
export const PREAMBLE_BYTES = BACKUP_MAGIC.length + 1 + 4;
export const GCM_TAG_BYTES = 16;
export const GCM_IV_BYTES = 12;
const MAX_HEADER_BYTES = 1 << 20;

/** The key context a backup's file key is wrapped under. */
export function backupKeyContext(backupId: string): Readonly<Record<string, string>> {
  return { purpose: 'backup', backupId };
}

export const BackupHeader = z.object({
  format: z.literal(BACKUP_FORMAT_VERSION),
  backupId: z.string().regex(/^[0-9a-f]{16}$/),
  createdAt: z.iso.datetime(),
  /** The kind of database the backup was taken from; a backup restores into either kind. */
  source: z.enum(['embedded', 'postgres']),
  /** The migrations applied to the source, in order: a restore needs a build with exactly these. */
  migrations: z.array(z.string()),
  compression: z.literal('gzip'),
  cipher: z.literal('aes-256-gcm'),
  kekId: z.string().min(1),
  /** The file key wrapped by the key provider (base64). */
  wrappedKey: z.string().min(1),
  /** The GCM initialisation vector of the body (base64). */
  iv: z.string().min(1),
});
export type BackupHeader = z.infer<typeof BackupHeader>;

/** Per table: how many rows and their content checksum. */
export const TableSummary = z.object({
  name: z.string().min(1),
  rows: z.number().int().min(0),
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TableSummary = z.infer<typeof TableSummary>;

export const SequenceValue = z.object({
  name: z.string().min(1),
  value: z.number().int(),
  isCalled: z.boolean(),
});
export type SequenceValue = z.infer<typeof SequenceValue>;

/** The preamble and header bytes; they are also the associated data of the body's encryption. */
export function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  BACKUP_MAGIC.copy(preamble, 0);
  preamble.writeUInt8(BACKUP_FORMAT_VERSION, BACKUP_MAGIC.length);
  preamble.writeUInt32BE(json.length, BACKUP_MAGIC.length + 1);
  return Buffer.concat([preamble, json]);
}

/** The header's length from the preamble, or undefined when the bytes are not a backup of this format. */
export function headerLengthOf(preamble: Buffer): number | undefined {
  if (preamble.length < PREAMBLE_BYTES) return undefined;
  if (!preamble.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) return undefined;
  if (preamble.readUInt8(BACKUP_MAGIC.length) !== BACKUP_FORMAT_VERSION) return undefined;
  const length = preamble.readUInt32BE(BACKUP_MAGIC.length + 1);
  return length > 0 && length <= MAX_HEADER_BYTES ? length : undefined;
}

export function parseHeader(json: Buffer): BackupHeader | undefined {
  try {
    const parsed = BackupHeader.safeParse(JSON.parse(json.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// Body lines. Rows are JSON objects, so they start with `{`; control lines start with `#`.
export const TABLE_LINE = '#table ';
export const END_LINE = '#end ';
export const SEQUENCE_LINE = '#sequence ';
export const DONE_LINE = '#done ';

/**
 * The content checksum of a table: the SHA-256 of each row's text, added up modulo 2^256, then hashed
 * with the row count. It does not depend on the order rows are read in, so the same rows give the same
 * checksum on PostgreSQL and on the embedded database whatever their collations, and a table is read in
 * one sequential pass (no sort of millions of rows). Any changed, missing or extra row changes it.
 */
export class ContentChecksum {
  /** 2^256 as 16 limbs of 16 bits, least significant first. */
  private readonly sum = new Uint32Array(16);
  rows = 0;

  add(rowText: string): void {
    const digest = createHash('sha256').update(rowText, 'utf8').digest();
    let carry = 0;
    for (let i = 0; i < 16; i += 1) {
      // Limb i is bytes (30 - 2i, 31 - 2i) of the big-endian digest.
      const limb = digest.readUInt16BE(30 - 2 * i);
      const total = this.sum[i]! + limb + carry;
      this.sum[i] = total & 0xffff;
      carry = total >>> 16;
    }
    this.rows += 1;
  }

  hex(): string {
    const bytes = Buffer.alloc(32);
    for (let i = 0; i < 16; i += 1) bytes.writeUInt16BE(this.sum[i]!, 30 - 2 * i);
    return createHash('sha256').update(`jumin-rows-v1:${this.rows}:`).update(bytes).digest('hex');
  }
}

/** Where the content of two databases differs, table by table. */
export interface TableDifference {
  readonly name: string;
  readonly expected: { rows: number; checksum: string } | undefined;
  readonly actual: { rows: number; checksum: string } | undefined;
}

export function compareSummaries(
  expected: readonly TableSummary[],
  actual: readonly TableSummary[],
): TableDifference[] {
  const byName = new Map(actual.map((t) => [t.name, t]));
  const differences: TableDifference[] = [];
  for (const e of expected) {
    const a = byName.get(e.name);
    byName.delete(e.name);
    if (!a || a.rows !== e.rows || a.checksum !== e.checksum) {
      differences.push({ name: e.name, expected: pick(e), actual: a && pick(a) });
    }
  }
  for (const a of byName.values()) differences.push({ name: a.name, expected: undefined, actual: pick(a) });
  return differences;
}

const pick = (t: TableSummary) => ({ rows: t.rows, checksum: t.checksum });

// File names: `jumin-backup-20261126-020000-<backup id>.jbak`, the date and time in Japan time. Retention
// reads the date from the name; files of any other name are never touched.
const NAME = /^jumin-backup-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([0-9a-f]{16})\.jbak$/;
const TEMP = /^\.jumin-backup-(\d{4})(\d{2})(\d{2})-\d{6}-[0-9a-f]{16}\.jbak\.[\w.-]*tmp$/;
export const CHECKSUM_SUFFIX = '.sha256';
const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

export function backupFileName(createdAt: Date, backupId: string): string {
  const jst = new Date(createdAt.getTime() + JST_OFFSET_MS).toISOString();
  const date = jst.slice(0, 10).replaceAll('-', '');
  const time = jst.slice(11, 19).replaceAll(':', '');
  return `jumin-backup-${date}-${time}-${backupId}.jbak`;
}

/** The Japan date and id a backup's name carries, or undefined for any other file. */
export function parseBackupFileName(name: string): { date: PlainDate; backupId: string } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  try {
    return { date: parsePlainDate(`${m[1]}-${m[2]}-${m[3]}`), backupId: m[7]! };
  } catch {
    return undefined;
  }
}

/** A temporary name in the same folder: a crash never leaves a file that looks like a finished backup. */
export function tempFileName(finalName: string, tag: string): string {
  return `.${finalName}.${tag}.tmp`;
}

/**
 * The first day a backup made on `made` is no longer kept: each location keeps the backups of the last
 * `retentionDays` days, today included (31: today and the 30 days before).
 */
export function backupExpiresOn(made: PlainDate, retentionDays: number): PlainDate {
  return addDays(made, retentionDays);
}

/** Which files of a folder retention deletes on `today`: old backups, their checksum files, stale temps. */
export function expiredFiles(names: readonly string[], today: PlainDate, retentionDays: number): string[] {
  const expired: string[] = [];
  for (const name of names) {
    const base = name.endsWith(CHECKSUM_SUFFIX) ? name.slice(0, -CHECKSUM_SUFFIX.length) : name;
    const parsed = parseBackupFileName(base);
    if (parsed) {
      if (daysBetween(parsed.date, today) >= retentionDays) expired.push(name);
      continue;
    }
    // A temporary file of an earlier day was left by a crash: no run is still writing it.
    const temp = TEMP.exec(name);
    if (temp && `${temp[1]}-${temp[2]}-${temp[3]}` < today) expired.push(name);
  }
  return expired.sort();
}

/** The next instant after `now` at `hhmm` (Japan time). */
export function nextDailyRun(now: Date, hhmm: string): Date {
  const [h, m] = hhmm.split(':').map(Number);
  const minutes = (h ?? 0) * 60 + (m ?? 0);
  const jstMidnight = Math.floor((now.getTime() + JST_OFFSET_MS) / 86_400_000) * 86_400_000 - JST_OFFSET_MS;
  let next = jstMidnight + minutes * 60_000;
  if (next <= now.getTime()) next += 86_400_000;
  return new Date(next);
}

/** The `sha256sum` line of a file. */
export function checksumLine(sha256: string, name: string): string {
  return `${sha256}  ${name}\n`;
}

export function parseChecksumLine(text: string): string | undefined {
  return /^([0-9a-f]{64}) [ *]?\S/.exec(text)?.[1];
}
