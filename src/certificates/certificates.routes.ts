/**
 * HTTP routes of certificates: thin — validate, resolve the acting staff member, call the service. Every
 * route needs the `certificate` permission (the service checks it again).
 */
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditContext } from '../audit/index.js';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import type { Actor, Clock } from '../shared/index.js';
import { CertificateRequest } from './certificate.js';
import { CertificateService, IssuanceQuery, VoidInput } from './certificate.service.js';

export interface CertificateRouteOptions {
  db: Db;
  clock: Clock;
  config: Config;
  /** Defaults to the clock and the configured monitoring thresholds. */
  auditContext?: AuditContext;
  /** Decrypts the 個人番号 a certificate prints. */
  keyring: Keyring;
  /** Who is acting for this request (the signed-in staff member); throws when nobody is. */
  actorOf: (request: FastifyRequest) => Actor;
}

/** Statuses of this module's refusal codes that are not plain 422s (NotFoundErrors are 404 anyway). */
export const CERTIFICATE_ERROR_STATUS: Readonly<Record<string, number>> = {
  MY_NUMBER_ONLY_FOR_SELF: 403,
  NOT_A_HOUSEHOLD_MEMBER: 403,
  MOVE_OUT_ONLY_FOR_SELF: 403,
  SUPPORT_MEASURE_REFUSED: 403,
  PERSONS_REQUIRED: 400,
  ALREADY_VOIDED: 409,
};

const IssuanceParams = z.object({ issuanceId: z.coerce.number().int().min(1) });

export const certificateRoutes: FastifyPluginAsyncZod<CertificateRouteOptions> = async (app, opts) => {
  const { actorOf } = opts;
  const service = new CertificateService(
    opts.db,
    opts.clock,
    opts.auditContext ?? { clock: opts.clock, monitoring: opts.config.monitoring },
    opts.config.certificates,
    opts.keyring,
  );

  app.post(
    '/certificates/preview',
    {
      config: { permission: 'certificate' },
      schema: {
        tags: ['証明書'],
        summary: '証明書のプレビュー（見本。交付記録は作成しない。照会として記録）',
        body: CertificateRequest,
      },
    },
    async (request, reply) => {
      const { pdf, pages } = await service.preview(actorOf(request), request.body);
      return reply
        .type('application/pdf')
        .header('x-certificate-pages', String(pages))
        .header('content-disposition', 'inline; filename="preview.pdf"')
        .send(pdf);
    },
  );

  app.post(
    '/certificates',
    {
      config: { permission: 'certificate' },
      schema: {
        tags: ['証明書'],
        summary:
          '証明書の交付（PDF）。交付記録の番号は x-issuance-id、発行番号は x-issue-number（URLエンコード）',
        body: CertificateRequest,
      },
    },
    async (request, reply) => {
      const { issuance, pdf } = await service.issue(actorOf(request), request.body);
      return reply
        .code(201)
        .type('application/pdf')
        .header('x-issuance-id', String(issuance.issuanceId))
        .header('x-issue-number', encodeURIComponent(issuance.issueNumber))
        .header('x-certificate-pages', String(issuance.sheets))
        .header('x-certificate-fee', String(issuance.fee))
        .header('content-disposition', `inline; filename="certificate-${issuance.issuanceId}.pdf"`)
        .send(pdf);
    },
  );

  app.get(
    '/certificates/issuances',
    {
      config: { permission: 'certificate' },
      schema: { tags: ['証明書'], summary: '交付記録の検索', querystring: IssuanceQuery },
    },
    async (request) => service.listIssuances(actorOf(request), request.query),
  );

  app.get(
    '/certificates/issuances/:issuanceId',
    {
      config: { permission: 'certificate' },
      schema: { tags: ['証明書'], summary: '交付記録', params: IssuanceParams },
    },
    async (request) => service.getIssuance(actorOf(request), request.params.issuanceId),
  );

  app.post(
    '/certificates/issuances/:issuanceId/void',
    {
      config: { permission: 'certificate' },
      schema: {
        tags: ['証明書'],
        summary: '誤交付の廃棄（交付記録に廃棄を追記。記録は削除されない）',
        params: IssuanceParams,
        body: VoidInput,
      },
    },
    async (request) => service.voidIssuance(actorOf(request), request.params.issuanceId, request.body),
  );
};
