/**
 * The secrets of signing in: Argon2id password hashes, TOTP codes (RFC 6238: SHA-1, 6 digits, 30 s),
 * session tokens and their hashes. Values never leave this file in logs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import { Secret, TOTP } from 'otpauth';

// OWASP's recommended Argon2id baseline (19 MiB, 2 passes) would do; we take more memory because a
// counter terminal signs in a few times a day and the server has plenty.
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed hash is a wrong password, not a crash
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of one verification when the account is unknown or disabled, so the reply time does
 * not tell an attacker which login names exist.
 */
export async function verifyNothing(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(await dummyHash, password);
}

export const TOTP_PERIOD_SECONDS = 30;
const TOTP_ISSUER = 'Jumin';

function totpOf(secretBase32: string, label = 'staff'): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new 160-bit TOTP secret, base32 (what authenticator apps expect). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The provisioning URL an authenticator app reads (usually from a QR code). */
export function otpauthUrl(secretBase32: string, label: string): string {
  return totpOf(secretBase32, label).toString();
}

/** The code an authenticator shows at `now` (for the non-production `jumin staff otp` and tests). */
export function totpCode(secretBase32: string, now: Date): string {
  return totpOf(secretBase32).generate({ timestamp: now.getTime() });
}

/**
 * The time step a code belongs to, accepting one step of clock drift either way; undefined when the
 * code is wrong. Whether the step was already used is the caller's business (it is stored per staff).
 */
export function totpStepOf(secretBase32: string, code: string, now: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = totpOf(secretBase32);
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return undefined;
  return totp.counter({ timestamp: now.getTime() }) + delta;
}

/** A session cookie value: 256 random bits. Only its hash is stored. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored key of a session: SHA-256 of the cookie value, hex. */
export function sessionHashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two tokens in constant time. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 'stf_' + 26 base32 characters (130 random bits). */
export function newStaffId(): string {
  const bytes = randomBytes(26);
  let id = 'stf_';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}
