/**
 * Builds the HTTP app: plugins, each module's routes under /api, the OpenAPI document, and one error
 * mapper from domain error codes to HTTP statuses.
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
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import {
  ChangeService,
  ResidentService,
  issuesToError,
  registryRoutes,
  type Actor,
} from './registry/index.js';
import { DomainError, NotFoundError, systemClock, type Clock } from './shared/index.js';

export interface AppDeps {
  config: Config;
  db: Db;
  clock?: Clock;
  logger?: boolean | object;
}

/** Domain error codes that are not plain 422 refusals. One table, nowhere else. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  ALREADY_CANCELLED: 409,
  LATER_CHANGE_DEPENDS: 409,
  ALREADY_REGISTERED: 409,
  ALREADY_REMOVED: 409,
  TWO_HEADS: 409,
  MOVE_OUT_ALREADY_PLANNED: 409,
};

export function statusOf(e: DomainError): number {
  if (e instanceof NotFoundError) return 404;
  return STATUS_OF_CODE[e.code] ?? (e.code.startsWith('INVALID_') ? 400 : 422);
}

/** Until staff login exists, requests act as the development identity (never in production). */
function devActor(config: Config) {
  return (request: { headers: Record<string, string | string[] | undefined> }): Actor => {
    if (!config.devIdentity) {
      throw new DomainError('UNAUTHENTICATED', 'ログインしていません。ログインしてから操作してください。');
    }
    const terminal = request.headers['x-terminal-id'];
    return {
      lgCode: config.lgCode,
      staffId: config.devIdentity.staffId,
      terminalId:
        typeof terminal === 'string' && /^[\w-]{1,40}$/.test(terminal)
          ? terminal
          : config.devIdentity.terminalId,
    };
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    logger: deps.logger ?? false,
    // Request logs carry method, route and status; never query strings (they may hold names or numbers).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Jumin API', description: '住民記録システム API', version: '0.1.0' },
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

  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });

  const changes = new ChangeService(deps.db, clock);
  const residents = new ResidentService(deps.db);
  await app.register(
    async (api) => {
      await api.register(registryRoutes, { changes, residents, actorOf: devActor(deps.config) });
      api.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
      api.get('/health', { schema: { hide: true } }, () => ({ status: 'ok' }));
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
