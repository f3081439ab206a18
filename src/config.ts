/**
 * The only reader of process.env. Validated once, typed, frozen. Development defaults (the embedded
 * database, the development identity) are refused when NODE_ENV=production.
 */
import path from 'node:path';
import { z } from 'zod';

const Env = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  JUMIN_DATA_DIR: z.string().default('./data'),
  /** The municipality this deployment serves by default (demo: a fictional city). */
  JUMIN_LG_CODE: z
    .string()
    .regex(/^\d{6}$/)
    .default('999016'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JUMIN_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(240).default(15),
  JUMIN_SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(24).default(8),
  JUMIN_LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  /** Ed25519 private key (PEM) that signs access-log checkpoints; kept outside the database. */
  JUMIN_AUDIT_KEY_FILE: z.string().optional(),
  JUMIN_AUDIT_CHECKPOINT_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  /** Office hours in Japan time, e.g. 08:00-19:00; access outside them (or on holidays) raises an alert. */
  JUMIN_OFFICE_HOURS: z
    .string()
    .regex(/^\d{2}:\d{2}-\d{2}:\d{2}$/)
    .default('08:00-19:00'),
  /**
   * 休日開庁日: Japan-time days the office opens though they are a weekend, a holiday or a closing day,
   * comma-separated (2026-11-28,2026-11-29). Within office hours on them, access raises no off-hours alert.
   */
  JUMIN_OPEN_DAYS: z
    .string()
    .regex(/^(\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*)?$/, 'YYYY-MM-DD, comma-separated')
    .default(''),
  JUMIN_ALERT_LOGIN_FAILURES: z.coerce.number().int().min(1).default(3),
  JUMIN_ALERT_LOGIN_FAILURE_MINUTES: z.coerce.number().int().min(1).default(15),
  JUMIN_ALERT_MASS_SEARCH_FACTOR: z.coerce.number().min(1).default(3),
  JUMIN_ALERT_MASS_SEARCH_MINIMUM: z.coerce.number().int().min(1).default(30),
  JUMIN_ALERT_IDLE_SEARCH_MINUTES: z.coerce.number().int().min(1).default(30),
  /** Who holds the key-encryption key: a local file (`local`) or the municipality's cloud KMS (`kms`). */
  JUMIN_KEY_PROVIDER: z.enum(['local', 'kms']).default('local'),
  /** The local provider's versioned key-encryption keys (a file outside the database and its backups). */
  JUMIN_MASTER_KEY_FILE: z.string().optional(),
  /** The KMS provider's customer-managed key (ARN or resource name). */
  JUMIN_KMS_KEY_ID: z.string().optional(),
  /** An ES module of the deployment exporting `createKmsClient()` (see src/keys/kms-provider.ts). */
  JUMIN_KMS_CLIENT_MODULE: z.string().optional(),
  /** Minutes a temporary release of a suppression lasts before it reverts by itself. */
  JUMIN_SUPPRESSION_RELEASE_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  /** The certifying officer's title and name on certificates (市区町村長名). */
  JUMIN_MAYOR_TITLE: z.string().default('架空市長　見本　一郎'),
  /** A PNG of the mayor's seal (職印); a drawn demo seal when unset. */
  JUMIN_SEAL_IMAGE: z.string().optional(),
  /** Fees in yen per certificate type, e.g. residentCopy=300,itemCertificate=300. */
  JUMIN_FEES: z
    .string()
    .default('residentCopy=300,removedRecordCopy=300,itemCertificate=300,moveOutCertificate=0'),
  /** A TrueType/OpenType font for certificates; IPAmj明朝 when installed, else the bundled npm font. */
  JUMIN_CERTIFICATE_FONT: z.string().optional(),
  JUMIN_EDIT_LOCK_MINUTES: z.coerce.number().int().min(1).max(240).default(15),
  /** Month (1-12) of the yearly removed-records archive run; not March or April (busy season). */
  JUMIN_ARCHIVE_MONTH: z.coerce
    .number()
    .int()
    .min(1)
    .max(12)
    .refine((m) => m !== 3 && m !== 4)
    .default(6),
  /** Purposes a staff member chooses from before opening a record, separated by commas. */
  JUMIN_INQUIRY_PURPOSES: z
    .string()
    .default('届出の受付,証明書の交付,住民からの問合せ対応,他課からの照会（公用）,職権調査,審査・決裁'),
  /** Backups: the primary location, the second location (another data centre), the daily time, retention. */
  JUMIN_BACKUP_DIR: z.string().optional(),
  JUMIN_BACKUP_OFFSITE_DIR: z.string().optional(),
  JUMIN_BACKUP_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
    .default('02:00'),
  JUMIN_BACKUP_RETENTION_DAYS: z.coerce.number().int().min(1).max(3660).default(31),
});

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly port: number;
  readonly host: string;
  readonly database:
    | { readonly kind: 'postgres'; readonly url: string }
    | { readonly kind: 'embedded'; readonly dataDir: string };
  readonly lgCode: string;
  readonly logLevel: string;
  readonly auth: {
    readonly sessionIdleMinutes: number;
    readonly sessionAbsoluteHours: number;
    /** Consecutive failed logins (password or second factor) that lock an account. */
    readonly lockoutThreshold: number;
  };
  readonly audit: { readonly keyFile: string; readonly checkpointMinutes: number };
  readonly monitoring: {
    /** Minutes after midnight, Japan time. */
    readonly officeStart: number;
    readonly officeEnd: number;
    /** 休日開庁日 (Japan-time YYYY-MM-DD): working days though a weekend, a holiday or a closing day. */
    readonly openDays: readonly string[];
    readonly loginFailures: number;
    readonly loginFailureMinutes: number;
    readonly massSearchFactor: number;
    readonly massSearchMinimum: number;
    readonly idleSearchMinutes: number;
  };
  readonly inquiryPurposes: readonly string[];
  readonly editLockMinutes: number;
  readonly keys: {
    readonly provider: 'local' | 'kms';
    readonly masterKeyFile: string;
    readonly kmsKeyId: string | undefined;
    readonly kmsClientModule: string | undefined;
  };
  readonly suppressionReleaseMinutes: number;
  readonly certificates: {
    readonly mayorTitle: string;
    readonly sealImage: string | undefined;
    readonly fees: Readonly<Record<string, number>>;
    readonly font: string | undefined;
  };
  readonly backup: {
    /** The primary location of backups. */
    readonly dir: string;
    /** The second, separately configured location (e.g. a mount of another data centre). */
    readonly offsiteDir: string;
    /** The daily backup time, `HH:MM` Japan time. */
    readonly dailyAt: string;
    /** Days of backups each location keeps, today included. */
    readonly retentionDays: number;
  };
  /** Yearly lifecycle jobs (src/lifecycle): the archive's month; the purge always runs in October. */
  readonly lifecycle: { readonly archiveMonth: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function parseFees(text: string): Record<string, number> {
  const fees: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [type, yen] = part.split('=').map((x) => x.trim());
    if (!type || yen === undefined || !/^\d+$/.test(yen))
      throw new ConfigError('invalid configuration: JUMIN_FEES');
    fees[type] = Number(yen);
  }
  return fees;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`invalid configuration: ${fields}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.DATABASE_URL) {
    throw new ConfigError(
      'NODE_ENV=production requires DATABASE_URL: the embedded database is for development only',
    );
  }
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    database: e.DATABASE_URL
      ? { kind: 'postgres', url: e.DATABASE_URL }
      : { kind: 'embedded', dataDir: path.resolve(e.JUMIN_DATA_DIR, 'pglite') },
    lgCode: e.JUMIN_LG_CODE,
    logLevel: e.LOG_LEVEL,
    auth: {
      sessionIdleMinutes: e.JUMIN_SESSION_IDLE_MINUTES,
      sessionAbsoluteHours: e.JUMIN_SESSION_ABSOLUTE_HOURS,
      lockoutThreshold: e.JUMIN_LOCKOUT_THRESHOLD,
    },
    audit: {
      keyFile: path.resolve(
        e.JUMIN_AUDIT_KEY_FILE ?? path.join(e.JUMIN_DATA_DIR, 'keys', 'audit-ed25519.pem'),
      ),
      checkpointMinutes: e.JUMIN_AUDIT_CHECKPOINT_MINUTES,
    },
    monitoring: {
      officeStart: minutesOf(e.JUMIN_OFFICE_HOURS.slice(0, 5)),
      officeEnd: minutesOf(e.JUMIN_OFFICE_HOURS.slice(6)),
      openDays: e.JUMIN_OPEN_DAYS === '' ? [] : e.JUMIN_OPEN_DAYS.split(','),
      loginFailures: e.JUMIN_ALERT_LOGIN_FAILURES,
      loginFailureMinutes: e.JUMIN_ALERT_LOGIN_FAILURE_MINUTES,
      massSearchFactor: e.JUMIN_ALERT_MASS_SEARCH_FACTOR,
      massSearchMinimum: e.JUMIN_ALERT_MASS_SEARCH_MINIMUM,
      idleSearchMinutes: e.JUMIN_ALERT_IDLE_SEARCH_MINUTES,
    },
    editLockMinutes: e.JUMIN_EDIT_LOCK_MINUTES,
    keys: {
      provider: e.JUMIN_KEY_PROVIDER,
      masterKeyFile: path.resolve(
        e.JUMIN_MASTER_KEY_FILE ?? path.join(e.JUMIN_DATA_DIR, 'keys', 'master.keys'),
      ),
      kmsKeyId: e.JUMIN_KMS_KEY_ID,
      kmsClientModule: e.JUMIN_KMS_CLIENT_MODULE ? path.resolve(e.JUMIN_KMS_CLIENT_MODULE) : undefined,
    },
    suppressionReleaseMinutes: e.JUMIN_SUPPRESSION_RELEASE_MINUTES,
    certificates: {
      mayorTitle: e.JUMIN_MAYOR_TITLE,
      sealImage: e.JUMIN_SEAL_IMAGE ? path.resolve(e.JUMIN_SEAL_IMAGE) : undefined,
      fees: Object.freeze(parseFees(e.JUMIN_FEES)),
      font: e.JUMIN_CERTIFICATE_FONT ? path.resolve(e.JUMIN_CERTIFICATE_FONT) : undefined,
    },
    backup: {
      dir: path.resolve(e.JUMIN_BACKUP_DIR ?? path.join(e.JUMIN_DATA_DIR, 'backups')),
      offsiteDir: path.resolve(e.JUMIN_BACKUP_OFFSITE_DIR ?? path.join(e.JUMIN_DATA_DIR, 'backups-offsite')),
      dailyAt: e.JUMIN_BACKUP_TIME,
      retentionDays: e.JUMIN_BACKUP_RETENTION_DAYS,
    },
    lifecycle: { archiveMonth: e.JUMIN_ARCHIVE_MONTH },
    inquiryPurposes: Object.freeze(
      e.JUMIN_INQUIRY_PURPOSES.split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    ),
  };
  if (e.JUMIN_KEY_PROVIDER === 'kms' && (!e.JUMIN_KMS_KEY_ID || !e.JUMIN_KMS_CLIENT_MODULE)) {
    throw new ConfigError(
      'JUMIN_KEY_PROVIDER=kms requires JUMIN_KMS_KEY_ID and JUMIN_KMS_CLIENT_MODULE (the deployment’s KMS client)',
    );
  }
  if (production && e.JUMIN_KEY_PROVIDER === 'local' && !e.JUMIN_MASTER_KEY_FILE) {
    throw new ConfigError(
      'NODE_ENV=production requires JUMIN_MASTER_KEY_FILE (or JUMIN_KEY_PROVIDER=kms): the master key is set up by the operator',
    );
  }
  if (production && !e.JUMIN_AUDIT_KEY_FILE) {
    throw new ConfigError(
      'NODE_ENV=production requires JUMIN_AUDIT_KEY_FILE: the audit signing key is set up by the operator',
    );
  }
  if (production && !e.JUMIN_BACKUP_OFFSITE_DIR) {
    throw new ConfigError(
      'NODE_ENV=production requires JUMIN_BACKUP_OFFSITE_DIR: backups need a copy in a second location',
    );
  }
  if (config.backup.dir === config.backup.offsiteDir) {
    throw new ConfigError('JUMIN_BACKUP_OFFSITE_DIR must differ from JUMIN_BACKUP_DIR');
  }
  return Object.freeze(config);
}
