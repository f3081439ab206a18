/**
 * Demo accounts for the fictional city, one per kind of work, with FIXED passwords and TOTP secrets so
 * the README can list them and anyone trying Jumin can sign in (`jumin staff otp --login NAME` prints the
 * current code). Never in production: these credentials are public.
 */
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { DomainError, systemActor, type Clock, type Permission } from '../shared/index.js';
import { findStaffByLogin } from './staff.repository.js';
import { StaffService } from './staff.service.js';
import type { Keyring } from '../keys/index.js';

export interface DemoAccount {
  readonly loginName: string;
  readonly displayName: string;
  readonly familyName: string;
  readonly password: string;
  /** Base32; enrol it in an authenticator app by hand, or use `jumin staff otp`. */
  readonly totpSecret: string;
  readonly permissions: readonly Permission[];
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  {
    loginName: 'admin',
    displayName: '管理　花子',
    familyName: '管理',
    password: 'Kakuu-Kanri-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVQWI3LJNYWXI33U',
    permissions: ['staffAdmin'],
  },
  {
    loginName: 'clerk',
    displayName: '窓口　一郎',
    familyName: '窓口',
    password: 'Kakuu-Madoguchi-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVRWYZLSNMWXI33U',
    permissions: ['inquiry', 'change', 'certificate'],
  },
  {
    loginName: 'reviewer',
    displayName: '審査　次郎',
    familyName: '審査',
    password: 'Kakuu-Shinsa-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVZGK5TJMV3WK4RN',
    permissions: [
      'inquiry',
      'approval',
      'myNumberView',
      'residentCodeView',
      'honsekiView',
      'residenceStatusView',
    ],
  },
  {
    loginName: 'officer',
    displayName: '支援　三恵',
    familyName: '支援',
    password: 'Kakuu-Shien-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVXWMZTJMNSXELLU',
    permissions: [
      'inquiry',
      'supportMeasure',
      'suppression',
      'suppressionRelease',
      'suppressionTemporaryRelease',
    ],
  },
  {
    loginName: 'auditor',
    displayName: '監査　四郎',
    familyName: '監査',
    password: 'Kakuu-Kansa-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVQXKZDJORXXELLU',
    permissions: ['logReview'],
  },
  {
    loginName: 'batch',
    displayName: '夜間　処理',
    familyName: '夜間',
    password: 'Kakuu-Yakan-2026',
    totpSecret: 'NJ2W22LOFVSGK3LPFVRGC5DDNAWXI33U',
    permissions: ['batch'],
  },
];

/**
 * Creates the demo accounts that do not exist yet in `lgCode` (idempotent: existing ones, even changed,
 * are left alone). The municipality must exist. Refused when NODE_ENV=production.
 */
export async function seedDemoStaff(
  db: Db,
  lgCode: string,
  clock: Clock,
  config: Config,
  keyring: Keyring,
): Promise<{ created: string[]; existing: string[] }> {
  if (config.env === 'production') {
    throw new DomainError('DEMO_REFUSED_IN_PRODUCTION', 'デモ用アカウントは本番環境では作成できません。');
  }
  const staff = new StaffService(db, config, clock, keyring);
  const actor = { ...systemActor(lgCode), terminalId: 'seed' };
  const created: string[] = [];
  const existing: string[] = [];
  for (const account of DEMO_ACCOUNTS) {
    if (await findStaffByLogin(db, lgCode, account.loginName)) {
      existing.push(account.loginName);
      continue;
    }
    await staff.create(
      actor,
      {
        loginName: account.loginName,
        displayName: account.displayName,
        familyName: account.familyName,
        password: account.password,
        permissions: account.permissions,
      },
      { totpSecret: account.totpSecret },
    );
    created.push(account.loginName);
  }
  return { created, existing };
}
