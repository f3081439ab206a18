/**
 * The harness every browser test shares: the staff UI built by Vite into a folder of the run, a fresh
 * database with the demo city and demo staff (as `jumin start` seeds them), the app on a random port, and
 * Debian's Chromium driven by playwright-core. Helpers: screenshots to test-artifacts/<name>/, the form
 * fields without a label, what the browser keeps in storage, and sign-in with the second factor (a TOTP
 * code no earlier sign-in of the run has used).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { buildApp } from '../app.js';
import { loadOrCreateAuditKey, type AuditKey } from '../audit/index.js';
import { loadConfig, type Config } from '../config.js';
import type { DatabaseHandle, Db } from '../db/index.js';
import { openTestDatabase } from '../db/testing.js';
import type { Keyring } from '../keys/index.js';
import { testKeyring } from '../keys/testing.js';
import { ChangeService, ResidentService, ensureMunicipality } from '../registry/index.js';
import { seedDemoData } from '../registry/demo-data.js';
import { systemActor, systemClock, type Actor } from '../shared/index.js';
import { DEMO_ACCOUNTS, seedDemoStaff, totpCode, type DemoAccount } from '../staff/index.js';

export const CHROMIUM = '/usr/bin/chromium';
export const LG_CODE = '999016';
const root = path.resolve(import.meta.dirname, '../..');

/** A demo account by its login name. */
export function account(loginName: string): DemoAccount {
  const found = DEMO_ACCOUNTS.find((a) => a.loginName === loginName);
  if (!found) throw new Error(`no demo account ${loginName}`);
  return found;
}

/** The few browser globals the page-side functions use (the Node project has no DOM types). */
export interface BrowserGlobals {
  localStorage: { length: number };
  sessionStorage: { length: number };
  indexedDB: { databases(): Promise<unknown[]> };
  document: { activeElement: { tagName: string; id: string; textContent: string | null } | null };
  fetch(url: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> }>;
  btoa(s: string): string;
}

export interface E2e {
  readonly handle: DatabaseHandle;
  readonly db: Db;
  readonly config: Config;
  readonly auditKey: AuditKey;
  /** Access-log settings, for services the test calls directly. */
  readonly audit: { clock: typeof systemClock; monitoring: Config['monitoring']; criteriaKey: Buffer };
  readonly keyring: Keyring;
  readonly system: Actor;
  readonly residents: ResidentService;
  readonly changes: ChangeService;
  readonly app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  readonly base: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** What the browser reported as blocked by the Content-Security-Policy (should stay empty). */
  readonly cspViolations: string[];
  /** Saves a screenshot of the page as test-artifacts/<name>/<file>.png. */
  screenshot(file: string, fullPage?: boolean): Promise<void>;
  /** Form fields without a label (a <label>, aria-label or aria-labelledby): their ids or names. */
  unlabelledFields(): Promise<string[]>;
  /** What the browser keeps: no personal data in any storage the terminal would retain. */
  browserStorage(): Promise<{ local: number; session: number; idb: number }>;
  /** A TOTP code of the account no sign-in of this run has used yet (a code is accepted once only). */
  freshCode(a: DemoAccount): Promise<string>;
  /** Opens the UI, signs in with password and second factor, and waits for the menu's ログアウト. */
  signIn(a: DemoAccount): Promise<void>;
  /** Signs out (by keyboard, which the PDF viewer's frame cannot swallow) and waits for the sign-in screen. */
  signOut(): Promise<void>;
  close(): Promise<void>;
}

export interface E2eOptions {
  /** Folder of the screenshots under test-artifacts/. */
  name: string;
  /** playwright's default timeout per step. */
  timeoutMs?: number;
}

/** Builds the UI, seeds a fresh database, starts the app and Chromium. Call in beforeAll (≈180 s budget). */
export async function startE2e(options: E2eOptions): Promise<E2e> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium ` +
        '(apt-get install -y chromium; .ci/run installs it).',
    );
  }
  const artifacts = path.join(root, 'test-artifacts', options.name);
  fs.mkdirSync(artifacts, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `jumin-e2e-${options.name}-`));

  // The UI, built once into a folder of this run.
  const webRoot = path.join(work, 'web');
  await build({
    configFile: path.join(root, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: webRoot, emptyOutDir: true },
  });

  // The demo city and staff, as `jumin start` seeds them.
  const handle = await openTestDatabase();
  await ensureMunicipality(handle.db, LG_CODE, '架空市');
  const config = loadConfig({ NODE_ENV: 'test', JUMIN_LG_CODE: LG_CODE });
  const auditKey = loadOrCreateAuditKey(path.join(work, 'audit.pem'), { create: true });
  const keyring = testKeyring(handle.db);
  await seedDemoStaff(handle.db, LG_CODE, systemClock, config, keyring);
  const audit = { clock: systemClock, monitoring: config.monitoring, criteriaKey: auditKey.criteriaKey };
  const system = systemActor(LG_CODE);
  const changes = new ChangeService(handle.preparedDb ?? handle.db, systemClock, audit, keyring, {
    numbering: handle.autonomous,
  });
  await seedDemoData(changes, system, { today: systemClock.today() });
  const residents = new ResidentService(
    handle.db,
    audit,
    { inquiryPurposes: config.inquiryPurposes, editLockMinutes: config.editLockMinutes },
    keyring,
    handle.preparedDb,
  );

  const app = await buildApp({
    config,
    db: handle.db,
    preparedDb: handle.preparedDb,
    numbering: handle.autonomous,
    auditKey,
    keyring,
    webRoot,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const base = `http://127.0.0.1:${address.port}`;

  const context = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    locale: 'ja-JP',
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(options.timeoutMs ?? 20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });

  /** The last TOTP time step used per account: a code (or an earlier one) is accepted once only. */
  const usedSteps = new Map<string, number>();
  const freshCode = async (a: DemoAccount): Promise<string> => {
    // The current step's code, or the next one's (the server accepts ±1 step); wait when both are used.
    let step = Math.max(Math.floor(Date.now() / 30_000), (usedSteps.get(a.loginName) ?? 0) + 1);
    while (step > Math.floor(Date.now() / 30_000) + 1) await new Promise((r) => setTimeout(r, 1000));
    step = Math.max(step, Math.floor(Date.now() / 30_000));
    usedSteps.set(a.loginName, step);
    return totpCode(a.totpSecret, new Date(step * 30_000 + 1_000));
  };

  return {
    handle,
    db: handle.db,
    config,
    auditKey,
    audit,
    keyring,
    system,
    residents,
    changes,
    app,
    base,
    context,
    page,
    cspViolations,
    async screenshot(file, fullPage = true) {
      await page.screenshot({ path: path.join(artifacts, `${file}.png`), fullPage });
    },
    unlabelledFields: () => unlabelledFields(page),
    browserStorage() {
      return page.evaluate(async () => {
        const w = globalThis as unknown as BrowserGlobals;
        return {
          local: w.localStorage.length,
          session: w.sessionStorage.length,
          idb: (await w.indexedDB.databases()).length,
        };
      });
    },
    freshCode,
    async signIn(a) {
      await page.goto(`${base}/`);
      await page.getByLabel('ログイン名').fill(a.loginName);
      await page.getByLabel('パスワード').fill(a.password);
      await page.getByLabel('パスワード').press('Enter');
      await page.getByLabel('確認コード').fill(await freshCode(a));
      await page.getByLabel('確認コード').press('Enter');
      await page.getByRole('button', { name: 'ログアウト' }).waitFor();
    },
    async signOut() {
      await page.getByRole('button', { name: 'ログアウト' }).press('Enter');
      await page.getByRole('heading', { name: 'ログイン' }).waitFor();
    },
    async close() {
      await context.close();
      await app.close();
      await handle.close();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Form fields without a label (a <label>, aria-label or aria-labelledby): their ids or names. */
async function unlabelledFields(page: Page): Promise<string[]> {
  /** The parts of a form field the check reads (the Node project has no DOM types). */
  interface Field {
    id: string;
    outerHTML: string;
    labels: { length: number } | null;
    getAttribute(name: string): string | null;
  }
  return page.$$eval('input, select, textarea', (elements): string[] =>
    (elements as unknown as Field[])
      .filter(
        (f) =>
          (f.labels?.length ?? 0) === 0 &&
          !f.getAttribute('aria-label') &&
          !f.getAttribute('aria-labelledby'),
      )
      .map((f) => f.id || f.getAttribute('name') || f.outerHTML),
  );
}
