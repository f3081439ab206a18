/**
 * Builds the HTTP app: the staff authentication plugin (deny by default), each module's routes under /api,
 * the OpenAPI document, and one error mapper from domain error codes to HTTP statuses.
 */
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { auditRoutes, loadOrCreateAuditKey, type AuditKey } from './audit/index.js';
import { CERTIFICATE_ERROR_STATUS, certificateRoutes } from './certificates/index.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import { PROTECTION_ERROR_STATUS, loadOrCreateDataKey, protectionRoutes } from './protection/index.js';
import { ChangeService, ResidentService, issuesToError, registryRoutes } from './registry/index.js';
import { DomainError, NotFoundError, systemClock, type Clock } from './shared/index.js';
import { STAFF_ERROR_STATUS, actorOf, authPlugin, authRoutes, staffRoutes } from './staff/index.js';

export interface AppDeps {
  config: Config;
  db: Db;
  clock?: Clock;
  logger?: boolean | object;
  /** The access-log signing key; loaded from `config.audit.keyFile` when not given. */
  auditKey?: AuditKey;
  /** The key encrypting support-measure details; loaded from `config.keys.dataKeyFile` when not given. */
  dataKey?: Buffer;
}

/** Domain error codes that are not plain 422 refusals. One table, nowhere else. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  ...STAFF_ERROR_STATUS,
  ...PROTECTION_ERROR_STATUS,
  ...CERTIFICATE_ERROR_STATUS,
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

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps;
  const clock = deps.clock ?? systemClock;
  const auditKey =
    deps.auditKey ?? loadOrCreateAuditKey(config.audit.keyFile, { create: config.env !== 'production' });
  const dataKey =
    deps.dataKey ?? loadOrCreateDataKey(config.keys.dataKeyFile, { create: config.env !== 'production' });
  const app = Fastify({
    logger: deps.logger ?? false,
    // Request logs would carry query strings, which may hold names or numbers: none are written.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Jumin API', description: '住民記録システム API', version: '0.1.0' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-jumin_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

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

  await app.register(authPlugin, { db, config, clock });

  const audit = { clock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
  const changes = new ChangeService(db, clock, audit);
  const residents = new ResidentService(db, audit, {
    inquiryPurposes: config.inquiryPurposes,
    editLockMinutes: config.editLockMinutes,
  });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { db, config, clock });
      await api.register(staffRoutes, { db, config, clock });
      await api.register(registryRoutes, { changes, residents, actorOf });
      await api.register(auditRoutes, { db, clock, config, key: auditKey, actorOf });
      await api.register(protectionRoutes, { db, clock, config, actorOf, dataKey });
      await api.register(certificateRoutes, { db, clock, config, actorOf });
      api.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, () =>
        app.swagger(),
      );
      api.get('/health', { config: { permission: 'public' }, schema: { hide: true } }, () => ({
        status: 'ok',
      }));
    },
    { prefix: '/api' },
  );
  app.get('/', { schema: { hide: true } }, (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="ja"><meta charset="utf-8"><title>Jumin 住民記録システム</title>' +
          '<h1>Jumin 住民記録システム</h1><p>API: <a href="/api/openapi.json">/api/openapi.json</a></p></html>',
      ),
  );
  return app;
}
