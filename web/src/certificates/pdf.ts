/**
 * POST requests answered by a PDF (preview and issue): `call` parses JSON, so these use `fetch` with the
 * same headers. A refusal comes back as JSON with a non-2xx status and is thrown as an ApiError; a lost
 * session is reported through `call` (which tells the shell to clear the screen).
 */
import { ApiError, call, csrfHeader } from '../api.js';

export interface PdfResponse {
  blob: Blob;
  headers: Headers;
}

export async function postForPdf(url: string, body: unknown): Promise<PdfResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        accept: 'application/pdf, application/json',
        'content-type': 'application/json',
        ...csrfHeader(),
      },
      credentials: 'same-origin',
      cache: 'no-store',
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'サーバーに接続できません。ネットワークの状態を確認してください。');
  }
  if (res.ok) return { blob: await res.blob(), headers: res.headers };
  const data = (await res.json().catch(() => undefined)) as
    { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
  if (res.status === 401) {
    // Let the API client notice the lost session (it clears every screen) by asking for the session.
    await call('GET', '/api/auth/session').catch(() => undefined);
  }
  throw new RefusalError(
    res.status,
    data?.code ?? 'UNKNOWN',
    data?.message ?? `エラーが発生しました（${res.status}）。`,
    data?.details,
  );
}

/** An ApiError with the refusal's details (e.g. the suppressions that need confirmation). */
export class RefusalError extends ApiError {
  constructor(
    status: number,
    code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(status, code, message);
  }
}
