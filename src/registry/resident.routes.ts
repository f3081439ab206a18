/**
 * HTTP routes of the register: thin — validate, resolve the acting staff member, call the service.
 */
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AliasInput,
  BirthInput,
  CancellationInput,
  CorrectionInput,
  DeathInput,
  ExOfficioEntryInput,
  ExOfficioRemovalInput,
  FormerSurnameInput,
  HeadChangeInput,
  HouseholdMergeInput,
  HouseholdSplitInput,
  MoveInInput,
  MoveInNoticeInput,
  MoveOutInput,
  MoveWithinInput,
  MyNumberChangeInput,
} from './change.js';
import type { Actor } from '../shared/index.js';
import type { ChangeOperation, ChangeService } from './change.service.js';
import { InquiryOptions, SearchCriteria, type ResidentService } from './resident.service.js';
import { StatisticsQuery } from './statistics.js';
import type { StatisticsService } from './statistics.service.js';

export interface RegistryRouteOptions {
  changes: ChangeService;
  residents: ResidentService;
  statistics: StatisticsService;
  /** Who is acting for this request (the signed-in staff member); throws when nobody is. */
  actorOf: (request: FastifyRequest) => Actor;
}

const ChangeResultSchema = z.object({
  changeId: z.number(),
  changeType: z.string(),
  reason: z.string(),
  kind: z.string(),
  effectiveDate: z.string(),
  persons: z.array(z.object({ personNo: z.string(), historySeq: z.number() })),
  householdNos: z.array(z.string()),
});

/** The record a change would write, as the inquiry shows it (hidden items absent, listed in `masked`). */
const ChangePreviewSchema = z.object({
  changeType: z.string(),
  reason: z.string(),
  reasonLabel: z.string(),
  kind: z.string(),
  effectiveDate: z.string(),
  persons: z.array(
    z.object({
      entering: z.boolean(),
      historySeq: z.number(),
      record: z.looseObject({ personNo: z.string(), masked: z.array(z.string()) }),
    }),
  ),
  householdNos: z.array(z.string()),
  newHouseholdNos: z.array(z.string()),
});

/** Each change type: its path, input schema, summary and service operation. */
const CHANGE_ROUTES = [
  ['move-in', MoveInInput, '転入', 'moveIn'],
  ['birth', BirthInput, '出生', 'birth'],
  ['move-within', MoveWithinInput, '転居', 'moveWithin'],
  ['move-out', MoveOutInput, '転出', 'moveOut'],
  ['move-in-notice', MoveInNoticeInput, '転入通知の受理', 'recordMoveInNotice'],
  ['household-split', HouseholdSplitInput, '世帯分離', 'householdSplit'],
  ['household-merge', HouseholdMergeInput, '世帯合併', 'householdMerge'],
  ['head-change', HeadChangeInput, '世帯主変更', 'headChange'],
  ['death', DeathInput, '死亡', 'death'],
  ['ex-officio-entry', ExOfficioEntryInput, '職権記載', 'exOfficioEntry'],
  ['ex-officio-removal', ExOfficioRemovalInput, '職権消除', 'exOfficioRemoval'],
  ['correction', CorrectionInput, '修正（軽微・誤記・職権）', 'correct'],
  ['my-number-change', MyNumberChangeInput, '個人番号の変更', 'changeMyNumber'],
  ['former-surname', FormerSurnameInput, '旧氏の記載・削除', 'formerSurname'],
  ['alias', AliasInput, '通称の記載・削除', 'alias'],
  ['cancellation', CancellationInput, '異動の取消し', 'cancel'],
] as const satisfies ReadonlyArray<readonly [string, z.ZodType, string, ChangeOperation]>;

export const registryRoutes: FastifyPluginAsyncZod<RegistryRouteOptions> = async (app, opts) => {
  const { changes, residents, statistics, actorOf } = opts;

  for (const [path, schema, summary, operation] of CHANGE_ROUTES) {
    app.post(
      `/changes/${path}`,
      {
        config: { permission: 'change' },
        schema: { tags: ['異動'], summary, body: schema, response: { 201: ChangeResultSchema } },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        // The service parses again: it is the trust boundary for every caller, not only HTTP.
        const result = await changes.operate(operation, actor, request.body);
        return reply.code(201).send(result);
      },
    );
    app.post(
      `/changes/${path}/preview`,
      {
        config: { permission: 'change' },
        schema: {
          tags: ['異動'],
          summary: `${summary}の確認（登録せずに、記録される内容を返す。照会として記録）`,
          body: schema,
          response: { 200: ChangePreviewSchema },
        },
      },
      async (request) => changes.preview(actorOf(request), operation, request.body),
    );
  }

  app.get(
    '/residents',
    {
      config: { permission: 'inquiry' },
      schema: { tags: ['検索・照会'], summary: '住民の検索（除票を含む）', querystring: SearchCriteria },
    },
    async (request) => residents.search(actorOf(request), request.query),
  );

  app.get(
    '/inquiry-purposes',
    { config: { permission: 'inquiry' }, schema: { tags: ['検索・照会'], summary: '照会目的の一覧' } },
    async (request) => ({ purposes: residents.purposes(actorOf(request)) }),
  );

  const PersonParams = z.object({ personNo: z.string() });

  app.get(
    '/residents/:personNo',
    {
      config: { permission: 'inquiry' },
      schema: {
        tags: ['検索・照会'],
        summary:
          '住民の照会（現在の記録と全履歴）。目的の指定が必要。reveal で秘匿項目を表示（権限と記録が必要）',
        params: PersonParams,
        querystring: InquiryOptions,
      },
    },
    async (request) => residents.inquire(actorOf(request), request.params.personNo, request.query),
  );

  app.get(
    '/residents/:personNo/move-out-certificate',
    {
      config: { permission: 'inquiry' },
      schema: {
        tags: ['検索・照会'],
        summary: '転出証明書の記載事項',
        params: PersonParams,
        querystring: InquiryOptions,
      },
    },
    async (request) => residents.moveOutCertificate(actorOf(request), request.params.personNo, request.query),
  );

  app.post(
    '/residents/:personNo/edit-lock',
    {
      config: { permission: 'change' },
      schema: { tags: ['異動'], summary: '編集の開始（排他ロックの取得・延長）', params: PersonParams },
    },
    async (request) => residents.lockForEdit(actorOf(request), request.params.personNo),
  );

  app.delete(
    '/residents/:personNo/edit-lock',
    {
      config: { permission: 'change' },
      schema: { tags: ['異動'], summary: '編集の取りやめ（排他ロックの解除）', params: PersonParams },
    },
    async (request) => residents.releaseEdit(actorOf(request), request.params.personNo),
  );

  app.get(
    '/households/:householdNo',
    {
      config: { permission: 'inquiry' },
      schema: {
        tags: ['検索・照会'],
        summary: '世帯の照会。目的の指定が必要',
        params: z.object({ householdNo: z.string() }),
        querystring: InquiryOptions,
      },
    },
    async (request) => residents.household(actorOf(request), request.params.householdNo, request.query),
  );

  app.get(
    '/statistics',
    {
      config: { permission: 'batch' },
      schema: {
        tags: ['バッチ'],
        summary: '住民基本台帳関係年報の集計（基準日の人口・世帯、期間中の異動）',
        querystring: StatisticsQuery,
      },
    },
    async (request) => statistics.annualStatistics(actorOf(request), request.query),
  );

  app.post(
    '/jobs/move-out-completion',
    { config: { permission: 'batch' }, schema: { tags: ['バッチ'], summary: '転出予定日到来分の消除' } },
    async (request) => {
      const results = await changes.completeDueMoveOuts(actorOf(request));
      return { removed: results.length, changes: results.map((r) => r.changeId) };
    },
  );
};
