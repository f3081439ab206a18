/**
 * Builders for tests of the register: valid people with unique numbers, and a service on a fixed clock.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config.js';
import { Kysely } from 'kysely';
import type { Db, DatabaseHandle } from '../db/index.js';
import { testKeyring } from '../keys/testing.js';
import {
  FixedClock,
  PERMISSIONS,
  myNumberFromBody,
  residentCodeFromBody,
  type Actor,
  type Clock,
} from '../shared/index.js';
import type { AuditSettings } from './access.js';
import type { NewPersonInput, MoveInInput, MoveWithinInput } from './change.js';
import { ChangeService } from './change.service.js';
import { ResidentService, type InquiryOptions } from './resident.service.js';

export const TEST_LG_CODE = '999016';
/** A staff member holding every permission. */
export const actor: Actor = {
  lgCode: TEST_LG_CODE,
  staffId: 'staff-001',
  terminalId: 'T-01',
  permissions: new Set(PERMISSIONS),
};

/** An inquiry with a valid purpose, revealing every hidden item. */
export const FULL_VIEW: InquiryOptions = {
  purpose: '届出の受付',
  reveal: ['myNumber', 'residentCode', 'honseki', 'residenceStatus'],
};

/**
 * The register's services on a test database, logging to its real access log. Given the database's handle,
 * changes and inquiries run as the application runs them (on PostgreSQL: on the pool of prepared
 * statements, numbers taken on the autonomous connection).
 */
export function registryServices(database: Db | DatabaseHandle, clock: Clock) {
  const { db, preparedDb, numbering } =
    database instanceof Kysely
      ? { db: database, preparedDb: database, numbering: undefined }
      : { db: database.db, preparedDb: database.preparedDb ?? database.db, numbering: database.autonomous };
  const config = loadConfig({ NODE_ENV: 'test' });
  const audit: AuditSettings = { clock, monitoring: config.monitoring, criteriaKey: randomBytes(32) };
  return {
    audit,
    changes: new ChangeService(preparedDb, clock, audit, testKeyring(db), { numbering }),
    residents: new ResidentService(
      db,
      audit,
      { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
      testKeyring(db),
      preparedDb,
    ),
  };
}

/** 10:00 JST on 2026-11-26. */
export function testClock(): FixedClock {
  return new FixedClock('2026-11-26T01:00:00Z');
}

let serial = 0;

/** A Japanese resident with valid, unique numbers; override any item. */
export function person(overrides: Partial<NewPersonInput> = {}): NewPersonInput {
  serial += 1;
  const n = String(serial).padStart(6, '0');
  return {
    kind: 'japanese',
    name: { family: '山田', given: `太郎${serial}` },
    reading: { family: 'ヤマダ', given: 'タロウ', status: 'certified' },
    birthDate: '1980-05-05',
    sex: 'male',
    relationship: '世帯主',
    honseki: { kind: 'registered', address: '東京都千代田区千代田1番', familyRegisterHead: '山田　太郎' },
    myNumber: myNumberFromBody(`91${n}001`),
    residentCode: residentCodeFromBody(`81${n}01`),
    ...overrides,
  };
}

export function foreignPerson(overrides: Partial<NewPersonInput> = {}): NewPersonInput {
  const base = person({ kind: 'foreign', relationship: '世帯主', ...overrides });
  delete base.honseki;
  delete base.name;
  return {
    ...base,
    reading: { family: 'スミス', given: 'ジョン', status: 'notCertified' },
    sex: 'male',
    foreign: {
      latinName: 'SMITH JOHN',
      nationality: 'アメリカ合衆国',
      foreignResidentSince: '2024-04-01',
      status: {
        category: 'midLongTerm',
        residenceStatus: '技術・人文知識・国際業務',
        periodOfStay: '5年',
        expiryDate: '2029-03-31',
        residenceCardNo: `AB${String(serial).padStart(8, '0')}CD`,
      },
    },
    ...overrides,
  };
}

export const ADDRESS = { text: '架空市中央区本町一丁目2番3号', postalCode: '100-0001', code: '101001' };
export const ADDRESS_2 = {
  text: '架空市北区緑町三丁目4番5号',
  katagaki: 'みどりハイツ203号室',
  postalCode: '100-0002',
  code: '102003',
};

/** A domestic move-in of a new household. */
export function moveInOf(members: NewPersonInput[], overrides: Partial<MoveInInput> = {}): MoveInInput {
  return {
    effectiveDate: '2026-11-20',
    notifiedOn: '2026-11-25',
    origin: 'domestic',
    address: ADDRESS,
    previousAddress: { text: '東京都千代田区千代田1番1号', abroad: false },
    household: { mode: 'new' },
    members,
    ...overrides,
  };
}

/** A move within of these persons to ADDRESS_2, their household moving with them (all its members). */
export function moveWithinOf(personNos: string[], overrides: Partial<MoveWithinInput> = {}): MoveWithinInput {
  return {
    effectiveDate: '2026-11-22',
    notifiedOn: '2026-11-26',
    personNos,
    address: ADDRESS_2,
    household: { mode: 'same' },
    ...overrides,
  };
}
