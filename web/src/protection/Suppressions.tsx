/**
 * 抑止: the suppressions of one person (宛名番号) or household (世帯番号) with their history; set one; release
 * or temporarily release one (each with its own permission and a reason).
 */
import { useId, useState, type FormEvent } from 'react';
import { call, messageOf, query, type SignedIn } from '../api.js';
import { formatDate } from '../format.js';
import { todayIso } from '../format.js';
import { Field } from './fields.js';

const PROCESS_LABEL: Record<string, string> = {
  change: '異動',
  certificate: '証明書の交付',
  inquiry: '照会',
};
const LEVEL_LABEL: Record<string, string> = {
  error: 'エラー（処理不可）',
  alert: '警告（確認のうえ処理可）',
};
const STATE_LABEL: Record<string, string> = {
  scheduled: '開始前',
  inForce: '抑止中',
  temporarilyReleased: '一時解除中',
  released: '解除済み',
};

interface SuppressionView {
  suppressionId: number;
  personNo: string | null;
  householdNo: string | null;
  process: string;
  level: string;
  startsOn: string;
  endsOn: string | null;
  expired: boolean;
  reason: string;
  setBy: string;
  setAt: string;
  state: string;
  temporarilyReleasedUntil: string | null;
  releases: Array<{
    kind: 'release' | 'temporary';
    until: string | null;
    reason: string;
    releasedBy: string;
    releasedAt: string;
  }>;
}

type TargetKind = 'personNo' | 'householdNo';

export function Suppressions({ session }: { session: SignedIn }) {
  const id = useId();
  const may = (p: string) => session.permissions.includes(p);
  const [kind, setKind] = useState<TargetKind>('personNo');
  const [no, setNo] = useState('');
  const [shownFor, setShownFor] = useState<{ kind: TargetKind; no: string } | undefined>();
  const [list, setList] = useState<SuppressionView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [process, setProcess] = useState('certificate');
  const [level, setLevel] = useState('error');
  const [startsOn, setStartsOn] = useState(todayIso());
  const [endsOn, setEndsOn] = useState('');
  const [reason, setReason] = useState('');
  const [releasing, setReleasing] = useState<
    { suppressionId: number; kind: 'release' | 'temporary' } | undefined
  >();
  const [releaseReason, setReleaseReason] = useState('');

  const load = async (target: { kind: TargetKind; no: string }) => {
    setError(undefined);
    try {
      const r = await call<{ suppressions: SuppressionView[] }>(
        'GET',
        `/api/protection/suppressions${query({ [target.kind]: target.no })}`,
      );
      setList(r.suppressions);
      setShownFor(target);
    } catch (e) {
      setError(messageOf(e));
      setList(undefined);
    }
  };

  const show = (e: FormEvent) => {
    e.preventDefault();
    setNotice(undefined);
    void load({ kind, no: no.trim() });
  };

  const setOne = async (e: FormEvent) => {
    e.preventDefault();
    if (!shownFor) return;
    setError(undefined);
    setNotice(undefined);
    try {
      await call('POST', '/api/protection/suppressions', {
        body: {
          target: { [shownFor.kind]: shownFor.no },
          process,
          level,
          startsOn,
          ...(endsOn ? { endsOn } : {}),
          reason,
        },
      });
      setNotice('抑止を設定しました。');
      setReason('');
      await load(shownFor);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  const release = async (e: FormEvent) => {
    e.preventDefault();
    if (!releasing || !shownFor) return;
    setError(undefined);
    setNotice(undefined);
    const path = releasing.kind === 'release' ? 'release' : 'temporary-release';
    try {
      await call('POST', `/api/protection/suppressions/${releasing.suppressionId}/${path}`, {
        body: { reason: releaseReason },
      });
      setNotice(releasing.kind === 'release' ? '抑止を解除しました。' : '抑止を一時解除しました。');
      setReleasing(undefined);
      setReleaseReason('');
      await load(shownFor);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-label="抑止">
      <h2>抑止</h2>
      <form className="search-form" aria-label="抑止の対象" onSubmit={show}>
        <div className="field">
          <label htmlFor={`${id}-kind`}>対象の種類</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as TargetKind)}>
            <option value="personNo">住民（宛名番号）</option>
            <option value="householdNo">世帯（世帯番号）</option>
          </select>
        </div>
        <Field
          id={`${id}-no`}
          label={kind === 'personNo' ? '宛名番号' : '世帯番号'}
          value={no}
          onChange={setNo}
        />
        <div className="actions">
          <button type="submit" disabled={no.trim() === ''}>
            抑止を表示
          </button>
        </div>
      </form>

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}

      {shownFor && list && (
        <>
          <h3>
            {shownFor.kind === 'personNo' ? '宛名番号' : '世帯番号'} {shownFor.no} の抑止
          </h3>
          {list.length === 0 ? (
            <p>抑止は設定されていません。</p>
          ) : (
            <table className="results">
              <thead>
                <tr>
                  <th>番号</th>
                  <th>業務</th>
                  <th>水準</th>
                  <th>期間</th>
                  <th>状態</th>
                  <th>理由</th>
                  <th>解除等の履歴</th>
                  <th>
                    <span className="visually-hidden">操作</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((s) => (
                  <tr key={s.suppressionId} className={s.state === 'released' ? 'removed' : undefined}>
                    <td>{s.suppressionId}</td>
                    <td>{PROCESS_LABEL[s.process] ?? s.process}</td>
                    <td>{LEVEL_LABEL[s.level] ?? s.level}</td>
                    <td>
                      {formatDate(s.startsOn)}〜{s.endsOn ? formatDate(s.endsOn) : ''}
                      {s.expired && <span className="badge suppressed">期限経過</span>}
                    </td>
                    <td>
                      {STATE_LABEL[s.state] ?? s.state}
                      {s.temporarilyReleasedUntil &&
                        `（${new Date(s.temporarilyReleasedUntil).toLocaleString('ja-JP')}まで）`}
                    </td>
                    <td>{s.reason}</td>
                    <td>
                      {s.releases.map((r, i) => (
                        <div key={i}>
                          {r.kind === 'release' ? '解除' : '一時解除'}{' '}
                          {new Date(r.releasedAt).toLocaleString('ja-JP')}（{r.reason}）
                        </div>
                      ))}
                    </td>
                    <td>
                      {s.state !== 'released' && may('suppressionRelease') && (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => setReleasing({ suppressionId: s.suppressionId, kind: 'release' })}
                        >
                          解除…
                        </button>
                      )}
                      {s.state === 'inForce' && may('suppressionTemporaryRelease') && (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => setReleasing({ suppressionId: s.suppressionId, kind: 'temporary' })}
                        >
                          一時解除…
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          {releasing && (
            <form className="search-form" aria-label="抑止の解除" onSubmit={(e) => void release(e)}>
              <Field
                id={`${id}-release-reason`}
                label={`抑止 ${releasing.suppressionId} の${releasing.kind === 'release' ? '解除' : '一時解除'}の理由`}
                value={releaseReason}
                onChange={setReleaseReason}
                autoFocus
              />
              <div className="actions">
                <button type="submit" disabled={releaseReason.trim() === ''}>
                  {releasing.kind === 'release' ? '解除する' : '一時解除する'}
                </button>
                <button type="button" className="secondary" onClick={() => setReleasing(undefined)}>
                  取りやめる
                </button>
              </div>
            </form>
          )}

          <h3>抑止の設定</h3>
          <form className="search-form" aria-label="抑止の設定" onSubmit={(e) => void setOne(e)}>
            <div className="field">
              <label htmlFor={`${id}-process`}>抑止する業務</label>
              <select id={`${id}-process`} value={process} onChange={(e) => setProcess(e.target.value)}>
                {Object.entries(PROCESS_LABEL).map(([k, v]) => (
                  <option key={k} value={k}>
                    {v}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-level`}>水準</label>
              <select id={`${id}-level`} value={level} onChange={(e) => setLevel(e.target.value)}>
                {Object.entries(LEVEL_LABEL).map(([k, v]) => (
                  <option key={k} value={k}>
                    {v}
                  </option>
                ))}
              </select>
            </div>
            <Field id={`${id}-starts`} label="開始日" type="date" value={startsOn} onChange={setStartsOn} />
            <Field
              id={`${id}-ends`}
              label="終了日（任意・表示のみ）"
              type="date"
              value={endsOn}
              onChange={setEndsOn}
            />
            <Field id={`${id}-reason`} label="設定の理由" value={reason} onChange={setReason} />
            <div className="actions">
              <button type="submit" disabled={reason.trim() === '' || startsOn === ''}>
                抑止を設定
              </button>
            </div>
          </form>
        </>
      )}
    </section>
  );
}
