/** The pure rules of backups: names, retention, the daily time, the header and the content checksum. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlainDate } from '../shared/index.js';
import {
  type BackupHeader,
  ContentChecksum,
  backupExpiresOn,
  backupFileName,
  compareSummaries,
  encodeHeader,
  expiredFiles,
  headerLengthOf,
  nextDailyRun,
  parseBackupFileName,
  parseChecksumLine,
  parseHeader,
  PREAMBLE_BYTES,
  checksumLine,
} from './backup.js';

const ID = '0123456789abcdef';

describe('backup file names', () => {
  it('carry the Japan date and time and the id, and read back', () => {
    // 2026-11-26 17:30 UTC is 2026-11-27 02:30 in Japan.
    const name = backupFileName(new Date('2026-11-26T17:30:05Z'), ID);
    expect(name).toBe(`jumin-backup-20261127-023005-${ID}.jbak`);
    expect(parseBackupFileName(name)).toEqual({ date: '2026-11-27', backupId: ID });
    expect(parseBackupFileName(`${name}.sha256`)).toBeUndefined();
    expect(parseBackupFileName('jumin-backup-20261332-000000-0123456789abcdef.jbak')).toBeUndefined();
    expect(parseBackupFileName('notes.txt')).toBeUndefined();
  });
});

describe('retention', () => {
  const on = (date: string) => `jumin-backup-${date.replaceAll('-', '')}-020000-${ID}.jbak`;

  it('keeps the backups of the last 31 days, today included, and deletes the 32nd-day one with its checksum', () => {
    const names = [
      on('2026-10-26'),
      `${on('2026-10-26')}.sha256`,
      on('2026-10-27'), // 31 days before 2026-11-27: the 32nd day
      `${on('2026-10-27')}.sha256`,
      on('2026-10-28'), // 30 days before: the 31st day, kept
      `${on('2026-10-28')}.sha256`,
      on('2026-11-27'),
      'notes.txt',
      'jumin-backup-latest.jbak',
    ];
    expect(expiredFiles(names, parsePlainDate('2026-11-27'), 31)).toEqual([
      on('2026-10-26'),
      `${on('2026-10-26')}.sha256`,
      on('2026-10-27'),
      `${on('2026-10-27')}.sha256`,
    ]);
    expect(backupExpiresOn(parsePlainDate('2026-10-27'), 31)).toBe('2026-11-27');
    expect(backupExpiresOn(parsePlainDate('2026-10-28'), 31)).toBe('2026-11-28');
  });

  it('removes temporary files left by a crash on an earlier day, never those of today', () => {
    const temp = (date: string) => `.${on(date)}.1234-abcd.tmp`;
    expect(expiredFiles([temp('2026-11-26'), temp('2026-11-27')], parsePlainDate('2026-11-27'), 31)).toEqual([
      temp('2026-11-26'),
    ]);
  });

  it('agrees with backupExpiresOn for every age', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 60 }), (age, days) => {
        const today = parsePlainDate('2026-11-27');
        const made = new Date(Date.UTC(2026, 10, 27 - age)).toISOString().slice(0, 10);
        const deleted = expiredFiles([on(made)], today, days).length === 1;
        expect(deleted).toBe(backupExpiresOn(parsePlainDate(made), days) <= today);
      }),
    );
  });
});

describe('the daily time', () => {
  it('is the next HH:MM in Japan time', () => {
    // 10:00 JST → 02:00 JST the next day.
    expect(nextDailyRun(new Date('2026-11-26T01:00:00Z'), '02:00').toISOString()).toBe(
      '2026-11-26T17:00:00.000Z',
    );
    // 01:59 JST → 02:00 JST the same day.
    expect(nextDailyRun(new Date('2026-11-25T16:59:00Z'), '02:00').toISOString()).toBe(
      '2026-11-25T17:00:00.000Z',
    );
    // Exactly 02:00 → tomorrow.
    expect(nextDailyRun(new Date('2026-11-25T17:00:00Z'), '02:00').toISOString()).toBe(
      '2026-11-26T17:00:00.000Z',
    );
    // 23:30 JST is 14:30 UTC.
    expect(nextDailyRun(new Date('2026-11-26T14:00:00Z'), '23:30').toISOString()).toBe(
      '2026-11-26T14:30:00.000Z',
    );
  });
});

describe('the header', () => {
  const header: BackupHeader = {
    format: 1,
    backupId: ID,
    createdAt: '2026-11-26T17:00:00.000Z',
    source: 'embedded',
    migrations: ['0001_register'],
    compression: 'gzip',
    cipher: 'aes-256-gcm',
    kekId: 'local:1',
    wrappedKey: 'AAAA',
    iv: 'BBBB',
  };

  it('round-trips, and other bytes are not taken for a backup', () => {
    const bytes = encodeHeader(header);
    const length = headerLengthOf(bytes.subarray(0, PREAMBLE_BYTES));
    expect(length).toBe(bytes.length - PREAMBLE_BYTES);
    expect(parseHeader(bytes.subarray(PREAMBLE_BYTES))).toEqual(header);
    expect(headerLengthOf(Buffer.from('PK\u0003\u0004 not a backup'))).toBeUndefined();
    const otherVersion = Buffer.from(bytes);
    otherVersion[8] = 2;
    expect(headerLengthOf(otherVersion)).toBeUndefined();
    expect(parseHeader(Buffer.from('{"format":1}'))).toBeUndefined();
  });

  it('checksum lines are in sha256sum format', () => {
    const sha = 'a'.repeat(64);
    expect(checksumLine(sha, 'x.jbak')).toBe(`${sha}  x.jbak\n`);
    expect(parseChecksumLine(checksumLine(sha, 'x.jbak'))).toBe(sha);
    expect(parseChecksumLine('garbage')).toBeUndefined();
  });
});

describe('the content checksum', () => {
  const of = (rows: string[]) => {
    const c = new ContentChecksum();
    for (const r of rows) c.add(r);
    return c.hex();
  };

  it('does not depend on the order rows are read in, and changes with any row', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 30 }),
        fc.string(),
        (rows, extra) => {
          const shuffled = [...rows].reverse();
          expect(of(shuffled)).toBe(of(rows));
          if (!rows.includes(extra)) expect(of([...rows, extra])).not.toBe(of(rows));
          expect(of(rows.slice(1))).not.toBe(of(rows));
        },
      ),
    );
    expect(of([])).toMatch(/^[0-9a-f]{64}$/);
    expect(of(['{"a":1}'])).not.toBe(of(['{"a":2}']));
  });

  it('comparisons name the tables that differ', () => {
    const a = { name: 'a', rows: 1, checksum: '0'.repeat(64) };
    const b = { name: 'b', rows: 2, checksum: '1'.repeat(64) };
    expect(compareSummaries([a, b], [a, b])).toEqual([]);
    expect(compareSummaries([a, b], [a, { ...b, rows: 3 }]).map((d) => d.name)).toEqual(['b']);
    expect(compareSummaries([a], [a, b]).map((d) => d.name)).toEqual(['b']);
    expect(compareSummaries([a, b], [b]).map((d) => d.name)).toEqual(['a']);
  });
});
