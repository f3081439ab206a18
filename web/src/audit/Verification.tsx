/**
 * ログ検証: the result of verifying the access-log chain now (正常, or each problem with its entry number)
 * and an action to seal a checkpoint over the chain as it stands.
 */
import { useCallback, useEffect, useState } from 'react';
import { call, messageOf } from '../api.js';
import { TAMPER_LABEL, formatJst } from './labels.js';

interface LaneView {
  lane: number;
  entries: number;
  lastEntryNo: string | null;
  checkpoints: number;
  sealedUptoEntryNo: string | null;
}

interface VerificationView {
  lgCode: string;
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** The log's hash chains (系列): appends side by side each take one. */
  lanes: LaneView[];
  problems: Array<{
    kind: string;
    seq: number;
    entryNo: string;
    toEntryNo?: string;
    checkpointId?: number;
    message: string;
  }>;
}

interface SealResult {
  sealed: boolean;
  checkpoints: Array<{
    checkpointId: number;
    uptoEntryNo: string;
    createdAt: string;
  }>;
}

export function Verification() {
  const [result, setResult] = useState<VerificationView | undefined>();
  const [checkedAt, setCheckedAt] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const verify = useCallback(async () => {
    setBusy(true);
    setError(undefined);
    try {
      setResult(await call<VerificationView>('GET', '/api/audit/verification'));
      setCheckedAt(new Date().toISOString());
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void verify();
  }, [verify]);

  const seal = async () => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const r = await call<SealResult>('POST', '/api/audit/checkpoints');
      const first = r.checkpoints[0];
      setNotice(
        r.sealed && first
          ? `チェックポイント ${r.checkpoints.map((c) => c.checkpointId).join('、')} を作成しました（ログ番号 ${r.checkpoints
              .map((c) => c.uptoEntryNo)
              .join('、')} まで封印、${formatJst(first.createdAt)}）。`
          : '前回のチェックポイント以降に新しいログがないため、作成しませんでした。',
      );
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
      return;
    }
    await verify();
  };

  return (
    <section aria-labelledby="verification-title">
      <h2 id="verification-title">ログの改ざん検証</h2>
      <p>
        <button type="button" disabled={busy} onClick={() => void verify()}>
          いま検証する
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={() => void seal()}>
          チェックポイントを作成（封印）
        </button>
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <>
          <p className={result.ok ? 'notice verified' : 'error'} aria-live="polite">
            {result.ok
              ? '正常: ログの改ざんは検出されませんでした。'
              : `異常: ${result.problems.length}件の問題が検出されました。`}
          </p>
          <dl className="record">
            <dt>検証日時（日本時間）</dt>
            <dd>{formatJst(checkedAt)}</dd>
            <dt>ログ件数</dt>
            <dd>{result.entries}件</dd>
            <dt>最新のログ番号</dt>
            <dd>{lanesText(result.lanes, (l) => l.lastEntryNo ?? '（なし）')}</dd>
            <dt>チェックポイント</dt>
            <dd>{result.checkpoints}件</dd>
            <dt>封印済みの範囲</dt>
            <dd>
              {lanesText(result.lanes, (l) =>
                l.sealedUptoEntryNo === null ? '（未封印）' : `ログ番号 ${l.sealedUptoEntryNo} まで`,
              )}
            </dd>
          </dl>
          {result.problems.length > 0 && (
            <table className="results">
              <caption>検出された問題</caption>
              <thead>
                <tr>
                  <th scope="col">ログ番号</th>
                  <th scope="col">種類</th>
                  <th scope="col">内容</th>
                </tr>
              </thead>
              <tbody>
                {result.problems.map((p) => (
                  <tr key={`${p.kind}-${p.seq}-${p.checkpointId ?? ''}`}>
                    <td>
                      {p.entryNo}
                      {p.toEntryNo !== undefined && p.toEntryNo !== p.entryNo && `〜${p.toEntryNo}`}
                    </td>
                    <td>
                      {TAMPER_LABEL[p.kind] ?? p.kind}
                      {p.checkpointId !== undefined && `（チェックポイント ${p.checkpointId}）`}
                    </td>
                    <td>{p.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

/**
 * One figure per lane: the figure alone while the log is one chain (系列 0), else `系列 k: …` for each (a
 * log number `k-n` is the n-th entry of 系列 k).
 */
function lanesText(lanes: readonly LaneView[], figure: (l: LaneView) => string): string {
  if (lanes.length === 0) return '（なし）';
  if (lanes.length === 1 && lanes[0]!.lane === 0) return figure(lanes[0]!);
  return lanes.map((l) => `系列 ${l.lane}: ${figure(l)}`).join('、');
}
