/**
 * HTTP routes of the register: thin — validate, resolve the acting staff member, call the service.
 */
import { z } from 'zod';
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
import type { Actor, ChangeService } from './change.service.js';
import { SearchCriteria, type ResidentService } from './resident.service.js';

export interface RegistryRouteOptions {
  changes: ChangeService;
  residents: ResidentService;
  /** Who is acting for this request; throws when nobody is. */
  actorOf: (request: { headers: Record<string, string | string[] | undefined> }) => Actor;
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

/** Each change type: its path, input schema, summary and service operation. */
function changeRoutes(s: ChangeService) {
  return [
    ['move-in', MoveInInput, '転入', s.moveIn.bind(s)],
    ['birth', BirthInput, '出生', s.birth.bind(s)],
    ['move-within', MoveWithinInput, '転居', s.moveWithin.bind(s)],
    ['move-out', MoveOutInput, '転出', s.moveOut.bind(s)],
    ['move-in-notice', MoveInNoticeInput, '転入通知の受理', s.recordMoveInNotice.bind(s)],
    ['household-split', HouseholdSplitInput, '世帯分離', s.householdSplit.bind(s)],
    ['household-merge', HouseholdMergeInput, '世帯合併', s.householdMerge.bind(s)],
    ['head-change', HeadChangeInput, '世帯主変更', s.headChange.bind(s)],
    ['death', DeathInput, '死亡', s.death.bind(s)],
    ['ex-officio-entry', ExOfficioEntryInput, '職権記載', s.exOfficioEntry.bind(s)],
    ['ex-officio-removal', ExOfficioRemovalInput, '職権消除', s.exOfficioRemoval.bind(s)],
    ['correction', CorrectionInput, '修正（軽微・誤記・職権）', s.correct.bind(s)],
    ['my-number-change', MyNumberChangeInput, '個人番号の変更', s.changeMyNumber.bind(s)],
    ['former-surname', FormerSurnameInput, '旧氏の記載・削除', s.formerSurname.bind(s)],
    ['alias', AliasInput, '通称の記載・削除', s.alias.bind(s)],
    ['cancellation', CancellationInput, '異動の取消し', s.cancel.bind(s)],
  ] as const;
}

export const registryRoutes: FastifyPluginAsyncZod<RegistryRouteOptions> = async (app, opts) => {
  const { changes, residents, actorOf } = opts;

  for (const [path, schema, summary, operate] of changeRoutes(changes)) {
    app.post(
      `/changes/${path}`,
      {
        schema: { tags: ['異動'], summary, body: schema, response: { 201: ChangeResultSchema } },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        // The service parses again: it is the trust boundary for every caller, not only HTTP.
        const result = await (operate as (a: Actor, input: unknown) => Promise<unknown>)(actor, request.body);
        return reply.code(201).send(result as z.infer<typeof ChangeResultSchema>);
      },
    );
  }

  app.get(
    '/residents',
    { schema: { tags: ['検索・照会'], summary: '住民の検索（除票を含む）', querystring: SearchCriteria } },
    async (request) => residents.search(actorOf(request).lgCode, request.query),
  );

  app.get(
    '/residents/:personNo',
    {
      schema: {
        tags: ['検索・照会'],
        summary: '住民の照会（現在の記録と全履歴）',
        params: z.object({ personNo: z.string() }),
      },
    },
    async (request) => residents.inquire(actorOf(request).lgCode, request.params.personNo),
  );

  app.get(
    '/residents/:personNo/move-out-certificate',
    {
      schema: {
        tags: ['検索・照会'],
        summary: '転出証明書の記載事項',
        params: z.object({ personNo: z.string() }),
      },
    },
    async (request) => residents.moveOutCertificate(actorOf(request).lgCode, request.params.personNo),
  );

  app.get(
    '/households/:householdNo',
    {
      schema: { tags: ['検索・照会'], summary: '世帯の照会', params: z.object({ householdNo: z.string() }) },
    },
    async (request) => residents.household(actorOf(request).lgCode, request.params.householdNo),
  );

  app.post(
    '/jobs/move-out-completion',
    { schema: { tags: ['バッチ'], summary: '転出予定日到来分の消除' } },
    async (request) => {
      const results = await changes.completeDueMoveOuts(actorOf(request));
      return { removed: results.length, changes: results.map((r) => r.changeId) };
    },
  );
};
