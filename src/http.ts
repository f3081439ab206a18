/**
 * The HTTP conventions every part of the API shares: zod validation, one table from domain error codes to
 * HTTP statuses, errors as JSON with a code and a Japanese message (never a stack trace or personal data),
 * `Cache-Control: no-store` on every API answer, and the security headers on everything served.
 */
import helmet from '@fastify/helmet';
import type { FastifyError, FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { CERTIFICATE_ERROR_STATUS } from './certificates/index.js';
import { PROTECTION_ERROR_STATUS } from './protection/index.js';
import { issuesToError } from './registry/index.js';
import { DomainError, NotFoundError } from './shared/index.js';
import { STAFF_ERROR_STATUS } from './staff/index.js';
import { KEYS_ERROR_STATUS } from './keys/index.js';

/** Domain error codes that are not plain 422 refusals. One table, nowhere else. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  ...STAFF_ERROR_STATUS,
  ...PROTECTION_ERROR_STATUS,
  ...CERTIFICATE_ERROR_STATUS,
  ...KEYS_ERROR_STATUS,
  INVALID_REQUEST: 400,
  PURPOSE_REQUIRED: 400,
  FORBIDDEN_ITEM: 403,
  ALREADY_CANCELLED: 409,
  LATER_CHANGE_DEPENDS: 409,
  ALREADY_REGISTERED: 409,
  ALREADY_REMOVED: 409,
  TWO_HEADS: 409,
  MOVE_OUT_ALREADY_PLANNED: 409,
  LOCKED_BY_OTHER: 409,
  ALERT_ALREADY_ACKNOWLEDGED: 409,
};

export function statusOf(e: DomainError): number {
  if (e instanceof NotFoundError) return 404;
  return STATUS_OF_CODE[e.code] ?? (e.code.startsWith('INVALID_') ? 400 : 422);
}

/** Sets the shared validation, error mapping and caching rules on an app (the real one, or a test's). */
export function configureHttp(app: FastifyInstance): void {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      // Rebuild zod's issues from Fastify's validation errors, so HTTP and service refusals read alike.
      const issues = error.validation.map((v) => ({
        ...v.params,
        code: v.keyword,
        message: v.message,
        path: v.instancePath.split('/').filter(Boolean),
      }));
      const e = issuesToError(issues as unknown as Parameters<typeof issuesToError>[0]);
      return reply.code(statusOf(e)).send({ code: e.code, message: e.message, details: e.details });
    }
    if (error instanceof DomainError) {
      return reply
        .code(statusOf(error))
        .send({ code: error.code, message: error.message, details: error.details });
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send({
        code: 'BAD_REQUEST',
        message: 'リクエストの形式が正しくありません。入力内容を確認してください。',
      });
    }
    // Unknown errors: logged by name and route only (no message: it may echo personal data).
    request.log.error(
      { err: { name: error.name, code: error.code }, route: request.routeOptions.url },
      'unexpected error',
    );
    return reply.code(500).send({
      code: 'INTERNAL_ERROR',
      message:
        'システムエラーが発生しました。時間をおいて再度お試しいただき、解決しない場合は管理者に連絡してください。',
    });
  });

  // Terminals keep no personal data: nothing the API answers may be cached.
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });
}

/**
 * The Content-Security-Policy of everything served: only this origin's own files (no inline script or
 * style, no eval), no framing by anyone, and blob: frames for the certificate PDF preview (the UI shows
 * the PDF it received as a blob: URL in an iframe; the document in it inherits this policy, and Chromium's
 * PDF viewer is a plugin, hence `object-src` allows blob: too).
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  // blob: is only ever this page's own object URLs (the PDF received); the browser tests read it back.
  connectSrc: ["'self'", 'blob:'],
  frameSrc: ["'self'", 'blob:'],
  childSrc: ["'self'", 'blob:'],
  objectSrc: ["'self'", 'blob:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
} as const;

/**
 * Security headers on every answer, the UI's files and the API alike (@fastify/helmet): the policy above,
 * `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, HSTS and the
 * cross-origin isolation headers helmet sets by default.
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: Object.fromEntries(Object.entries(CONTENT_SECURITY_POLICY).map(([k, v]) => [k, [...v]])),
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
