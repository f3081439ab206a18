/**
 * Sign-in routes (mounted under /api): password, second factor, sign-out, who am I. Thin: validate, call
 * the service, set or clear the session cookie.
 */
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { systemClock, type Clock } from '../shared/index.js';
import {
  actorOf,
  clearSessionCookie,
  sessionTokenOf,
  setSessionCookie,
  signedInOf,
  terminalTokenOf,
} from './auth.plugin.js';
import { AuthService, LoginRequest, SecondFactorRequest, SignedIn } from './auth.service.js';
import { invalidTerminalId, TerminalId, UNKNOWN_TERMINAL } from './staff.js';
import type { Keyring } from '../keys/index.js';
import { ThisTerminal } from './terminal.js';
import { TerminalService } from './terminal.service.js';

export interface StaffRouteOptions {
  db: Db;
  config: Config;
  clock?: Clock;
  /** Encrypts and decrypts the TOTP secrets (src/keys). */
  keyring: Keyring;
}

const TAGS = ['ログイン'];

/**
 * The terminal an API client names by `x-terminal-id` (self-declared; a registered terminal's cookie takes
 * precedence); 'unknown' when absent, refused when malformed.
 */
function declaredTerminalOf(headers: Record<string, string | string[] | undefined>): string {
  const value = headers['x-terminal-id'];
  if (value === undefined) return UNKNOWN_TERMINAL;
  const parsed = TerminalId.safeParse(value);
  if (!parsed.success) throw invalidTerminalId();
  return parsed.data;
}

export const authRoutes: FastifyPluginAsyncZod<StaffRouteOptions> = async (app, opts) => {
  const auth = new AuthService(opts.db, opts.config, opts.clock ?? systemClock, opts.keyring);
  const terminals = new TerminalService(opts.db, opts.config, opts.clock ?? systemClock);

  app.get(
    '/auth/terminal',
    {
      config: { permission: 'public' },
      schema: {
        tags: TAGS,
        summary: 'この端末（登録済みの端末か、未登録なら unknown）',
        response: { 200: ThisTerminal },
      },
    },
    async (request) => terminals.describe(terminalTokenOf(request)),
  );

  app.post(
    '/auth/login',
    {
      config: { permission: 'public' },
      schema: {
        tags: TAGS,
        summary: 'ログイン（ログイン名とパスワード）',
        body: LoginRequest,
        response: { 200: z.object({ next: z.literal('secondFactor') }) },
      },
    },
    async (request, reply) => {
      const lgCode = request.body.lgCode ?? opts.config.lgCode;
      const terminalId = await terminals.terminalIdOf(
        terminalTokenOf(request),
        lgCode,
        declaredTerminalOf(request.headers),
      );
      const { token } = await auth.login(request.body, terminalId);
      setSessionCookie(reply, token);
      return { next: 'secondFactor' as const };
    },
  );

  app.post(
    '/auth/second-factor',
    {
      config: { permission: 'public' },
      schema: {
        tags: TAGS,
        summary: 'ログイン（確認コード: TOTP）',
        body: SecondFactorRequest,
        response: { 200: SignedIn },
      },
    },
    async (request, reply) => {
      const { token, signedIn } = await auth.secondFactor(sessionTokenOf(request), request.body);
      setSessionCookie(reply, token);
      return signedIn;
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'ログアウト' },
    },
    async (request, reply) => {
      await auth.logout(actorOf(request));
      clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );

  app.get(
    '/auth/session',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'ログイン中の職員と CSRF トークン', response: { 200: SignedIn } },
    },
    async (request) => signedInOf(request),
  );
};
