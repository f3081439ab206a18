/**
 * The API client. Keeps the CSRF token in memory only (never in browser storage) and reports a lost
 * session (401 UNAUTHENTICATED / SESSION_EXPIRED) to one handler, which clears every screen.
 */

export type Permission = string;

export interface SignedIn {
  staffId: string;
  lgCode: string;
  displayName: string;
  terminalId: string;
  permissions: Permission[];
  csrfToken: string;
  expiresAt: string;
}

/** A refusal from the API: its code, and a message a clerk can act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SESSION_LOST = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED']);

let csrfToken: string | undefined;
let onSessionLost: ((e: ApiError) => void) | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** The CSRF header for a request made with `fetch` directly (e.g. one answered by a PDF). */
export function csrfHeader(): Record<string, string> {
  return csrfToken ? { 'x-csrf-token': csrfToken } : {};
}

export function setSessionLostHandler(handler: ((e: ApiError) => void) | undefined): void {
  onSessionLost = handler;
}

interface CallOptions {
  body?: unknown;
  /** Sign-in steps: a 401 there is a refusal to show, not a lost session. */
  signingIn?: boolean;
}

export async function call<T>(method: 'GET' | 'POST', url: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'サーバーに接続できません。ネットワークの状態を確認してください。');
  }
  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const body = (data ?? {}) as { code?: string; message?: string };
    const error = new ApiError(
      res.status,
      body.code ?? 'UNKNOWN',
      body.message ?? `エラーが発生しました（${res.status}）。`,
    );
    if (res.status === 401 && SESSION_LOST.has(error.code) && !options.signingIn) onSessionLost?.(error);
    throw error;
  }
  return data as T;
}

/** A query string of the given parameters, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function messageOf(e: unknown): string {
  return e instanceof ApiError ? e.message : '予期しないエラーが発生しました。';
}
