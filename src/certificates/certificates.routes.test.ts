/**
 * The certificate routes over HTTP: issuing returns the PDF with the issuance id and issue number, the
 * history lists it, voiding appends a disposal; every route is refused to a staff member without the
 * certificate permission, and a staff member of another municipality sees none of this one's persons.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { configureHttp } from '../http.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import { ensureMunicipality } from '../registry/index.js';
import { actor, moveInOf, person, registryServices } from '../registry/testing.js';
import { actorOf, authPlugin, authRoutes } from '../staff/index.js';
import {
  OTHER_LG_CODE,
  TEST_LG_CODE,
  call,
  createAccount,
  signIn,
  testClock,
  testConfig,
  type Signed,
} from '../staff/testing.js';
import { certificateRoutes } from './certificates.routes.js';
import { flat, pdfText } from './testing.js';
import { testKeyring } from '../keys/testing.js';

let handle: DatabaseHandle;
let app: FastifyInstance;
let clerk: Signed;
let inquirer: Signed;
let outsider: Signed;
let head: string;
let household: string;
const clock = testClock();

beforeAll(async () => {
  handle = await openTestDatabase();
  const config = testConfig();
  await ensureMunicipality(handle.db, TEST_LG_CODE, '架空市');
  await ensureMunicipality(handle.db, OTHER_LG_CODE, '隣接区');
  const moved = await registryServices(handle, clock).changes.moveIn(
    actor,
    moveInOf([person({ name: { family: '田中', given: '一郎' } })]),
  );
  head = moved.persons[0]!.personNo;
  household = moved.householdNos[0]!;

  app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  configureHttp(app);
  await app.register(authPlugin, { db: handle.db, config, clock, keyring: testKeyring(handle.db) });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { db: handle.db, config, clock, keyring: testKeyring(handle.db) });
      await api.register(certificateRoutes, {
        db: handle.db,
        clock,
        config,
        actorOf,
        keyring: testKeyring(handle.db),
      });
    },
    { prefix: '/api' },
  );
  await app.ready();

  const terminal = { 'x-terminal-id': 'COUNTER-3' };
  clerk = await signIn(app, clock, await createAccount(handle.db, config, clock, ['certificate']), terminal);
  inquirer = await signIn(app, clock, await createAccount(handle.db, config, clock, ['inquiry']), terminal);
  outsider = await signIn(
    app,
    clock,
    await createAccount(handle.db, config, clock, ['certificate'], { lgCode: OTHER_LG_CODE }),
    terminal,
  );
});
afterAll(async () => {
  await app?.close();
  await handle?.close();
});

const request = () => ({
  type: 'residentCopy',
  householdNo: household,
  requester: { type: 'self', personNo: head },
  printerId: 'PRN2',
});

describe('certificate routes', () => {
  it('issues a certificate as a PDF with its issuance id and issue number', async () => {
    const res = await call(app, clerk, 'POST', '/api/certificates', { payload: request() });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['content-type']).toBe('application/pdf');
    const issueNumber = decodeURIComponent(String(res.headers['x-issue-number']));
    expect(issueNumber).toBe('令和8年11月26日 架空市 COUNTER-3 PRN2 000001');
    expect(res.headers['x-certificate-fee']).toBe('300');
    const text = pdfText(res.rawPayload);
    expect(text).toContain(`${issueNumber} 1/1`);
    expect(flat(text)).toContain(flat('田中　一郎'));

    const id = Number(res.headers['x-issuance-id']);
    const list = await call(app, clerk, 'GET', `/api/certificates/issuances?personNo=${head}`);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toMatchObject({ total: 1, issuances: [{ issuanceId: id, status: 'issued' }] });

    const voided = await call(app, clerk, 'POST', `/api/certificates/issuances/${id}/void`, {
      payload: { reason: '記載誤りのため回収' },
    });
    expect(voided.statusCode, voided.body).toBe(200);
    expect(voided.json()).toMatchObject({ status: 'voided', disposal: { reason: '記載誤りのため回収' } });
    const again = await call(app, clerk, 'POST', `/api/certificates/issuances/${id}/void`, {
      payload: { reason: '再度' },
    });
    expect(again.statusCode).toBe(409);
    const one = await call(app, clerk, 'GET', `/api/certificates/issuances/${id}`);
    expect(one.json()).toMatchObject({ issuanceId: id, status: 'voided' });
  });

  it('previews without recording an issuance', async () => {
    const res = await call(app, clerk, 'POST', '/api/certificates/preview', { payload: request() });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(flat(pdfText(res.rawPayload))).toContain(flat('見本'));
  });

  it('answers refusals with their codes and statuses', async () => {
    const res = await call(app, clerk, 'POST', '/api/certificates', {
      payload: {
        ...request(),
        items: ['myNumber'],
        requester: { type: 'thirdParty', name: 'A', reason: 'r', purpose: 'p' },
      },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'MY_NUMBER_ONLY_FOR_SELF' });
  });

  it('refuses every route without the certificate permission', async () => {
    for (const [method, url] of [
      ['POST', '/api/certificates'],
      ['POST', '/api/certificates/preview'],
      ['GET', '/api/certificates/issuances'],
      ['GET', '/api/certificates/issuances/1'],
      ['POST', '/api/certificates/issuances/1/void'],
    ] as const) {
      const res = await call(app, inquirer, method, url, {
        ...(method === 'POST' ? { payload: url.endsWith('void') ? { reason: 'x' } : request() } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it("shows another municipality's staff none of this one's persons or issuances", async () => {
    const res = await call(app, outsider, 'POST', '/api/certificates', { payload: request() });
    expect(res.statusCode).toBe(404);
    const list = await call(app, outsider, 'GET', '/api/certificates/issuances');
    expect(list.json()).toMatchObject({ total: 0, issuances: [] });
    const one = await call(app, outsider, 'GET', '/api/certificates/issuances/1');
    expect(one.statusCode).toBe(404);
  });
});
