/**
 * For tests of certificates: the service on a test database and fixed clock, and the text of a PDF as
 * `pdftotext` (poppler-utils) reads it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import type { Db } from '../db/index.js';
import { testKeyring } from '../keys/testing.js';
import { ResidentRecord, type CertificateSubject } from '../registry/index.js';
import {
  householdNoFromSerial,
  myNumberFromBody,
  personNoFromSerial,
  residentCodeFromBody,
  type Clock,
} from '../shared/index.js';
import { CertificateService } from './certificate.service.js';

export function certificateConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: '999016', ...env });
}

export function certificateService(db: Db, clock: Clock, config: Config = certificateConfig()) {
  return new CertificateService(
    db,
    clock,
    { clock, monitoring: config.monitoring },
    config.certificates,
    testKeyring(db),
  );
}

/** The PDF's text as `pdftotext -layout` extracts it (UTF-8, lines as laid out on the page). */
export function pdfText(pdf: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jumin-pdf-'));
  try {
    const file = path.join(dir, 'certificate.pdf');
    fs.writeFileSync(file, pdf);
    return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Text without any whitespace: pdftotext renders the gaps of a laid-out page (and the ideographic space
 * between family and given name) as runs of spaces, so texts are compared without them.
 */
export function flat(text: string): string {
  return text.replace(/[\s\u3000]+/gu, '');
}

const GIVEN = ['太郎', '花子', '翔太', '美咲', '健一', '由美', '大輔', '陽菜'] as const;
const RELATIONSHIPS = ['世帯主', '妻', '子', '子', '父', '母', '子', '子'] as const;

/**
 * A household of `members` persons for rendering without a database (render tests, the benchmark), with
 * every item filled in and, when `historyEntries` > 0, that many history entries each.
 */
export function sampleHousehold(
  members: number,
  options: { family?: string; historyEntries?: number } = {},
): { head: ResidentRecord; subjects: CertificateSubject[] } {
  const family = options.family ?? '山田';
  const householdNo = householdNoFromSerial(4242);
  const subjects = Array.from({ length: members }, (_, i): CertificateSubject => {
    const record = ResidentRecord.parse({
      personNo: personNoFromSerial(1000 + i),
      kind: 'japanese',
      status: 'current',
      name: { family, given: GIVEN[i % GIVEN.length] },
      reading: { family: 'ヤマダ', given: 'タロウ', status: i === 0 ? 'certified' : 'notCertified' },
      birthDate: { kind: 'exact', date: `${1950 + i * 7}-0${(i % 9) + 1}-1${i % 10}` },
      sex: i % 2 === 0 ? 'male' : 'female',
      householdNo,
      householdOrder: i + 1,
      relationship: RELATIONSHIPS[i % RELATIONSHIPS.length],
      honseki: {
        kind: 'registered',
        address: '東京都千代田区千代田1番',
        familyRegisterHead: `${family}　太郎`,
      },
      residentSince: '2020-04-01',
      address: { text: '架空市中央区本町一丁目2番3号', katagaki: 'さくらマンション101号室' },
      addressSetOn: '2020-04-01',
      notifiedOn: '2020-04-03',
      previousAddress: { text: '東京都千代田区千代田1番1号', abroad: false },
      myNumber: myNumberFromBody(`9${String(1000 + i).padStart(10, '0')}`),
      residentCode: residentCodeFromBody(`8${String(1000 + i).padStart(9, '0')}`),
    });
    const history = Array.from({ length: options.historyEntries ?? 0 }, (_, h) => ({
      historySeq: h + 1,
      changeId: 100 + h,
      reason: h === 0 ? 'domesticMoveIn' : 'moveWithin',
      reasonLabel: h === 0 ? '転入' : '転居',
      effectiveDate: `20${10 + h}-04-01`,
      notifiedOn: `20${10 + h}-04-03`,
      cancelled: false,
      record,
    }));
    return { record, history };
  });
  return { head: subjects[0]!.record, subjects };
}
