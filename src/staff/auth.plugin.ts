/**
 * Deny by default. Registered once on the root app, before any route, this plugin
 *  - records the permission every route declares in `config.permission` (a Permission, 'public' or
 *    'authenticated'), refusing at start-up a value that is none of these;
 *  - on every request to a route under the API prefix: refuses a route that declared nothing (403 for
 *    everyone), resolves the session from the cookie (401), enforces CSRF on state-changing requests (403)
 *    and the declared permission against the staff member's grants for the session's municipality (403);
 *  - resolves the terminal from the registered-terminal cookie (see terminal.ts);
 *  - puts the acting staff member on the request, for `actorOf(request)`.
 * Refusals are DomainErrors, so they go through the app's one error mapper.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { Permission, systemClock, type Actor, type Clock } from '../shared/index.js';
import { AuthService, type ResolvedSession } from './auth.service.js';
import { forbidden, jsonRequired, unauthenticated } from './staff.js';
import type { Keyring } from '../keys/index.js';
import { TERMINAL_COOKIE, TERMINAL_COOKIE_OPTIONS } from './terminal.js';
import { TerminalService } from './terminal.service.js';

/** What a route needs: a permission, any signed-in staff member, or nobody (sign-in, health, OpenAPI). */
export type RoutePermission = Permission | 'public' | 'authenticated';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every API route declares this; a route without it is refused to everyone. */
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    /** Set by the auth plugin on routes that need a session; read it with `actorOf(request)`. */
    staffSession: ResolvedSession | null;
  }
}

export const SESSION_COOKIE = '__Host-jumin_session';

/** `__Host-`: Secure, Path=/ and no Domain, so no other site or subdomain can set or read it. */
export const SESSION_COOKIE_OPTIONS = {
  path: '/',
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
} as const;

export interface AuthPluginOptions {
  db: Db;
  config: Config;
  clock?: Clock;
  /** Decrypts the TOTP secrets (src/keys). */
  keyring: Keyring;
  /** Routes under this prefix are checked; others (the static UI) are not. Default '/api'. */
  prefix?: string;
}

export interface RouteDeclaration {
  readonly method: string;
  readonly url: string;
  /** undefined: the route declared nothing and is refused to everyone. */
  readonly permission: RoutePermission | undefined;
}

const kDeclared = Symbol('jumin.declaredRoutes');
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function isRoutePermission(value: unknown): value is RoutePermission {
  return value === 'public' || value === 'authenticated' || Permission.safeParse(value).success;
}

/** Every route registered after the plugin, with the permission it declared (for the deny-by-default test). */
export function declaredRoutes(app: FastifyInstance): readonly RouteDeclaration[] {
  const list = (app as unknown as Record<symbol, RouteDeclaration[] | undefined>)[kDeclared];
  if (!list) throw new Error('authPlugin is not registered on this app');
  return list;
}

/** The signed-in staff member acting in this request; throws UNAUTHENTICATED when there is none. */
export function actorOf(request: FastifyRequest): Actor {
  const session = request.staffSession;
  if (!session) throw unauthenticated();
  return session.actor;
}

/** The session as the UI sees it (name, permissions, CSRF token); throws UNAUTHENTICATED without one. */
export function signedInOf(request: FastifyRequest): ResolvedSession['signedIn'] {
  const session = request.staffSession;
  if (!session) throw unauthenticated();
  return session.signedIn;
}

export function sessionTokenOf(request: FastifyRequest): string | undefined {
  const value = request.cookies[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

/** The terminal cookie's value, if the browser carries one. */
export function terminalTokenOf(request: FastifyRequest): string | undefined {
  const value = request.cookies[TERMINAL_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

export function setTerminalCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(TERMINAL_COOKIE, token, TERMINAL_COOKIE_OPTIONS);
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, SESSION_COOKIE_OPTIONS);
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, SESSION_COOKIE_OPTIONS);
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;|$)/i.test(type);
}

async function authPluginImpl(app: FastifyInstance, opts: AuthPluginOptions): Promise<void> {
  const auth = new AuthService(opts.db, opts.config, opts.clock ?? systemClock, opts.keyring);
  const terminals = new TerminalService(opts.db, opts.config, opts.clock ?? systemClock);
  const prefix = opts.prefix ?? '/api';
  const declared: RouteDeclaration[] = [];

  if (!app.hasDecorator('parseCookie')) await app.register(cookie);
  app.decorate(kDeclared, declared);
  app.decorateRequest('staffSession', null);

  app.addHook('onRoute', (route) => {
    const permission: unknown = route.config?.permission;
    if (permission !== undefined && !isRoutePermission(permission)) {
      // A typo must stop the server, not silently lock (or open) a route.
      throw new Error(`route ${route.url} declares an unknown permission`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) declared.push({ method, url: route.url, permission });
  });

  app.addHook('onRequest', async (request, reply) => {
    const url = request.routeOptions.url;
    // Unmatched URLs go on to the 404 handler; routes outside the API (the UI's files) are public.
    if (url === undefined || !(url === prefix || url.startsWith(`${prefix}/`))) return;
    const permission = request.routeOptions.config.permission;
    if (permission === undefined) throw forbidden();
    if (permission === 'public') {
      // Sign-in has no session to carry a CSRF token; a JSON body is what a cross-site form cannot send.
      if (!SAFE_METHODS.has(request.method) && !isJson(request)) throw jsonRequired();
      return;
    }
    const csrfHeader = request.headers['x-csrf-token'];
    try {
      request.staffSession = await auth.resolve(sessionTokenOf(request), {
        method: request.method,
        csrfToken: typeof csrfHeader === 'string' ? csrfHeader : undefined,
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'SESSION_EXPIRED') clearSessionCookie(reply);
      throw e;
    }
    // The terminal is the registered one of the browser's cookie, on every request (a revoked terminal
    // becomes 'unknown' at once); without the cookie, the one recorded at sign-in.
    const session = request.staffSession;
    const terminalId = await terminals.terminalIdOf(
      terminalTokenOf(request),
      session.actor.lgCode,
      session.actor.terminalId,
    );
    if (terminalId !== session.actor.terminalId) {
      request.staffSession = {
        actor: { ...session.actor, terminalId },
        signedIn: { ...session.signedIn, terminalId },
      };
    }
    if (permission !== 'authenticated' && !request.staffSession.actor.permissions.has(permission)) {
      throw forbidden();
    }
  });
}

/** Register once on the root app, before any route. */
export const authPlugin = fp(authPluginImpl, { name: 'jumin-auth', fastify: '5.x' });
