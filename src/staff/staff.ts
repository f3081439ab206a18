/**
 * Staff accounts: schemas, domain types and the pure rules (password policy, terminal ids, refusals).
 * Nothing here touches the database or the clock.
 */
import { z } from 'zod';
import { DomainError, NotFoundError, Permission } from '../shared/index.js';

export const LgCode = z.string().regex(/^\d{6}$/, '団体コードは6桁の数字で入力してください。');

/** A sign-in name: short, ASCII, case-insensitive (stored lower-case so 'Clerk' and 'clerk' are one). */
export const LoginName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,39}$/, 'ログイン名は半角英数字と . _ - の2〜40文字で入力してください。');
export type LoginName = z.infer<typeof LoginName>;

/** Staff ids are random ('stf_' + 26 base32 characters): they reveal neither order nor count. */
export const StaffId = z.string().regex(/^stf_[a-z2-7]{26}$/, '職員IDの形式が正しくありません。');
export type StaffId = z.infer<typeof StaffId>;

/** A terminal (端末) id: of a registered terminal, or as an API client names it by `x-terminal-id`. */
export const TerminalId = z.string().regex(/^[\w-]{1,40}$/);
export const UNKNOWN_TERMINAL = 'unknown';

/** Who a staff member is, as administrators see it. Never carries a secret. */
export const Staff = z.object({
  staffId: z.string(),
  lgCode: z.string(),
  loginName: z.string(),
  displayName: z.string(),
  familyName: z.string(),
  address: z.string().nullable(),
  permissions: z.array(Permission),
  failedAttempts: z.number().int(),
  locked: z.boolean(),
  disabled: z.boolean(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type Staff = z.infer<typeof Staff>;

/** A staff member as auditors see them in the access log and alerts: the name behind the id. */
export const StaffName = z.object({
  staffId: z.string(),
  displayName: z.string(),
  loginName: z.string(),
});
export type StaffName = z.infer<typeof StaffName>;

export const NewStaffInput = z.object({
  loginName: LoginName,
  displayName: z.string().trim().min(1).max(100),
  familyName: z.string().trim().min(1).max(50),
  address: z.string().trim().min(1).max(200).optional(),
  password: z.string().max(1024),
  permissions: z.array(Permission).default([]),
});
export type NewStaffInput = z.input<typeof NewStaffInput>;

/** What creating an account hands back once: the TOTP secret is never shown again. */
export const CreatedStaff = z.object({
  staff: Staff,
  totpSecret: z.string(),
  otpauthUrl: z.string(),
});
export type CreatedStaff = z.infer<typeof CreatedStaff>;

export const SessionState = z.enum(['pending', 'active', 'ended']);
export type SessionState = z.infer<typeof SessionState>;

/** Why a session ended; kept on the row and in the access log. */
export const SessionEndReason = z.enum([
  'logout',
  'rotated',
  'idle',
  'absolute',
  'admin',
  'locked',
  'disabled',
]);
export type SessionEndReason = z.infer<typeof SessionEndReason>;

/** An open session as administrators see it (the id is a hash: it cannot be turned back into a cookie). */
export const SessionView = z.object({
  sessionId: z.string(),
  staffId: z.string(),
  loginName: z.string(),
  state: SessionState,
  terminalId: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
});
export type SessionView = z.infer<typeof SessionView>;

/** Grants as stored, keeping only permissions this version knows (a removed one grants nothing). */
export function toPermissions(stored: readonly string[]): Permission[] {
  return stored.flatMap((p) => {
    const parsed = Permission.safeParse(p);
    return parsed.success ? [parsed.data] : [];
  });
}

// ---------------------------------------------------------------------------------------------------
// Password policy

export const PASSWORD_MIN_LENGTH = 12;
/** From this length a passphrase needs no character classes. */
export const PASSPHRASE_MIN_LENGTH = 16;

/**
 * Common passwords and patterns people reach for, compared case-insensitively after removing
 * separators. Not exhaustive: a short list that stops the obvious ones that pass the length rule.
 */
const COMMON_PASSWORDS = new Set([
  'password1234',
  'password12345',
  'password123456',
  'passw0rd1234',
  'p@ssw0rd1234',
  'p@ssword1234',
  'qwerty123456',
  'qwertyuiop12',
  'qwertyuiop123',
  'qwertyuiopasdf',
  'asdfghjkl123',
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789abc',
  'abc123456789',
  'abcdefghijkl',
  'abcd12345678',
  'iloveyou1234',
  'welcome12345',
  'welcome123456',
  'letmein12345',
  'changeme1234',
  'administrator',
  'administrator1',
  'admin1234567',
  'admin12345678',
  'trustno11234',
  'sunshine1234',
  'princess1234',
  'football1234',
  'baseball1234',
  'jumin1234567',
  'juminpassword',
  'password1234!',
  'password123!',
  'passwordpassword',
  'aaaaaaaaaaaa',
  '111111111111',
  '000000000000',
]);

function normalisedForList(password: string): string {
  return password
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_.-]/g, '');
}

function classesOf(password: string): number {
  return [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
}

/**
 * Refuses a password that breaks the policy: at least 12 characters with 3 of the 4 classes (upper,
 * lower, digit, symbol) — or at least 16 characters of anything —, not containing the login name, not
 * a common password. Messages never repeat the password.
 */
export function checkPasswordPolicy(password: string, loginName: string): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) {
    throw new DomainError(
      'PASSWORD_TOO_SHORT',
      `パスワードは${PASSWORD_MIN_LENGTH}文字以上にしてください。`,
      { minLength: PASSWORD_MIN_LENGTH },
    );
  }
  if (length < PASSPHRASE_MIN_LENGTH && classesOf(password) < 3) {
    throw new DomainError(
      'PASSWORD_TOO_SIMPLE',
      `パスワードには英大文字・英小文字・数字・記号のうち3種類以上を含めてください（${PASSPHRASE_MIN_LENGTH}文字以上なら不要です）。`,
    );
  }
  const name = loginName.trim().toLowerCase();
  if (name.length >= 3 && password.toLowerCase().includes(name)) {
    throw new DomainError('PASSWORD_CONTAINS_LOGIN_NAME', 'パスワードにログイン名を含めないでください。');
  }
  const normalised = normalisedForList(password);
  if (COMMON_PASSWORDS.has(normalised) || /^(.)\1+$/.test(normalised)) {
    throw new DomainError(
      'PASSWORD_TOO_COMMON',
      'このパスワードはよく使われるため推測されやすく、使えません。別のパスワードにしてください。',
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Refusals. Messages tell the clerk what to do and never name the account.

export const loginFailed = () =>
  new DomainError(
    'LOGIN_FAILED',
    'ログイン名またはパスワードが正しくありません。続けて失敗するとアカウントがロックされます。',
  );

export const accountLocked = () =>
  new DomainError(
    'ACCOUNT_LOCKED',
    'ログインの失敗が続いたため、アカウントがロックされています。職員管理の担当者（管理者）にロックの解除を依頼してください。',
  );

export const secondFactorFailed = () =>
  new DomainError(
    'SECOND_FACTOR_FAILED',
    '確認コードが正しくありません。認証アプリに表示されている6桁のコードを入力してください。',
  );

export const secondFactorReused = () =>
  new DomainError(
    'SECOND_FACTOR_REUSED',
    'この確認コードは使用済みです。認証アプリに次のコードが表示されてから入力してください。',
  );

export const unauthenticated = () =>
  new DomainError('UNAUTHENTICATED', 'ログインしていません。ログインしてから操作してください。');

export const sessionExpired = () =>
  new DomainError(
    'SESSION_EXPIRED',
    '一定時間操作がなかったか、利用時間の上限を過ぎたため、ログアウトしました。もう一度ログインしてください。',
  );

export const forbidden = () =>
  new DomainError(
    'FORBIDDEN',
    'この操作を行う権限がありません。必要な場合は職員管理の担当者（管理者）に権限の付与を依頼してください。',
  );

export const csrfTokenInvalid = () =>
  new DomainError(
    'CSRF_TOKEN_INVALID',
    '画面の有効期限が切れているか、不正な送信の可能性があるため処理しませんでした。画面を再読み込みしてからやり直してください。',
  );

export const jsonRequired = () =>
  new DomainError(
    'UNSUPPORTED_MEDIA_TYPE',
    'リクエストの形式が正しくありません（JSON で送信してください）。',
  );

export const invalidTerminalId = () =>
  new DomainError(
    'INVALID_TERMINAL_ID',
    '端末IDの形式が正しくありません。端末の設定を確認してください（半角英数字・_・- の40文字以内）。',
  );

export const staffNotFound = () => new NotFoundError('STAFF_NOT_FOUND', '指定された職員は見つかりません。');

export const sessionNotFound = () =>
  new NotFoundError(
    'SESSION_NOT_FOUND',
    '指定されたセッションは見つかりません（すでに終了している可能性があります）。',
  );

export const loginNameTaken = () =>
  new DomainError('LOGIN_NAME_TAKEN', 'このログイン名はすでに使われています。別のログイン名にしてください。');

export const notForSelf = () =>
  new DomainError(
    'NOT_ALLOWED_ON_SELF',
    '自分自身のアカウントに対してこの操作はできません。別の管理者に依頼してください。',
  );

export const municipalityUnknown = () =>
  new DomainError(
    'MUNICIPALITY_NOT_REGISTERED',
    'この団体コードの地方公共団体は登録されていません。団体コードを確認してください。',
  );

/**
 * The HTTP status each of this module's refusal codes needs (for the app's one error mapper). Codes not
 * listed follow the app's defaults: NotFoundError → 404, INVALID_* → 400, others 422 (the password
 * policy refusals, NOT_ALLOWED_ON_SELF, MUNICIPALITY_NOT_REGISTERED).
 */
export const STAFF_ERROR_STATUS: Readonly<Record<string, number>> = {
  UNAUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  LOGIN_FAILED: 401,
  SECOND_FACTOR_FAILED: 401,
  SECOND_FACTOR_REUSED: 401,
  ACCOUNT_LOCKED: 403,
  FORBIDDEN: 403,
  CSRF_TOKEN_INVALID: 403,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LOGIN_NAME_TAKEN: 409,
  TERMINAL_ID_TAKEN: 409,
};
