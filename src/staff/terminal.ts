/**
 * Registered terminals (端末): schemas and refusals. A browser becomes a terminal when an administrator
 * registers it; it then carries the `__Host-jumin_terminal` cookie, and every sign-in and request from it is
 * logged with the terminal's id. A browser without a valid cookie is the terminal 'unknown'.
 */
import { z } from 'zod';
import { DomainError, NotFoundError } from '../shared/index.js';
import { TerminalId } from './staff.js';

export const TERMINAL_COOKIE = '__Host-jumin_terminal';

/** Long-lived (five years); HttpOnly, Secure, SameSite=Strict and `__Host-` like the session cookie. */
export const TERMINAL_COOKIE_OPTIONS = {
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
  maxAge: 5 * 365 * 24 * 60 * 60,
} as const;

export const TerminalRegistration = z.object({
  terminalId: z
    .string()
    .trim()
    .pipe(TerminalId.refine((id) => id !== 'unknown', { message: '端末IDに unknown は使えません。' })),
  name: z.string().trim().min(1).max(100),
});
export type TerminalRegistration = z.input<typeof TerminalRegistration>;

export const Terminal = z.object({
  terminalId: z.string(),
  name: z.string(),
  registeredBy: z.string(),
  registeredAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type Terminal = z.infer<typeof Terminal>;

/** Which terminal this browser is, as the sign-in screen shows it. */
export const ThisTerminal = z.object({
  registered: z.boolean(),
  terminalId: z.string(),
  name: z.string().nullable(),
});
export type ThisTerminal = z.infer<typeof ThisTerminal>;

export const terminalTaken = () =>
  new DomainError(
    'TERMINAL_ID_TAKEN',
    'この端末IDはすでに登録されています。別の端末IDにするか、登録済みの端末を廃止してから登録してください。',
  );

export const terminalNotFound = () =>
  new NotFoundError('TERMINAL_NOT_FOUND', '指定された端末は登録されていないか、すでに廃止されています。');
