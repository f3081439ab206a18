/** Today's issuances (交付記録), each with 誤交付の廃棄 (void with a reason). */
import { useCallback, useEffect, useId, useState } from 'react';
import { call, messageOf, query } from '../api.js';
import { todayIso } from '../format.js';
import { REQUESTER_LABEL, TYPE_LABEL, type CertificateType, type RequesterType } from './labels.js';

export interface IssuanceView {
  issuanceId: number;
  issuedAt: string;
  issueNumber: string;
  staffId: string;
  type: CertificateType;
  requesterType: RequesterType;
  householdNo: string;
  subjects: string[];
  sheets: number;
  fee: number;
  status: 'issued' | 'voided';
  disposal?: { reason: string; disposedAt: string };
}

interface Props {
  /** Changes when the list should be loaded again (after an issue or a void). */
  version: number;
  onVoid: (issuanceId: number, reason: string) => Promise<boolean>;
}

export function IssuanceList({ version, onVoid }: Props) {
  const id = useId();
  const [list, setList] = useState<IssuanceView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [voiding, setVoiding] = useState<number | undefined>();
  const [reason, setReason] = useState('');

  const load = useCallback(async () => {
    setError(undefined);
    try {
      const today = todayIso();
      const r = await call<{ issuances: IssuanceView[] }>(
        'GET',
        `/api/certificates/issuances${query({ from: today, to: today, pageSize: 200 })}`,
      );
      setList(r.issuances);
    } catch (e) {
      setError(messageOf(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, version]);

  return (
    <section aria-label="本日の交付記録">
      <h2>本日の交付記録</h2>
      <button type="button" className="secondary" onClick={() => void load()}>
        再読込
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list && list.length === 0 && <p>本日の交付記録はありません。</p>}
      {list && list.length > 0 && (
        <table className="results">
          <thead>
            <tr>
              <th>発行番号</th>
              <th>種類</th>
              <th>請求者</th>
              <th>世帯番号</th>
              <th>対象（宛名番号）</th>
              <th>枚数</th>
              <th>手数料</th>
              <th>状態</th>
              <th>
                <span className="visually-hidden">操作</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((i) => (
              <tr key={i.issuanceId} className={i.status === 'voided' ? 'removed' : undefined}>
                <td>{i.issueNumber}</td>
                <td>{TYPE_LABEL[i.type] ?? i.type}</td>
                <td>{REQUESTER_LABEL[i.requesterType] ?? i.requesterType}</td>
                <td>{i.householdNo}</td>
                <td>{i.subjects.join('、')}</td>
                <td>{i.sheets}</td>
                <td>{i.fee}円</td>
                <td>{i.status === 'voided' ? `廃棄（${i.disposal?.reason ?? ''}）` : '交付'}</td>
                <td>
                  {i.status === 'issued' && (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => {
                        setVoiding(i.issuanceId);
                        setReason('');
                      }}
                    >
                      廃棄…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {voiding !== undefined && (
        <form
          className="search-form"
          aria-label="交付記録の廃棄"
          onSubmit={(e) => {
            e.preventDefault();
            void onVoid(voiding, reason).then((ok) => {
              if (ok) setVoiding(undefined);
            });
          }}
        >
          <div className="field">
            <label htmlFor={`${id}-reason`}>交付記録 {voiding} の廃棄の理由</label>
            <input id={`${id}-reason`} value={reason} autoFocus onChange={(e) => setReason(e.target.value)} />
          </div>
          <div className="actions">
            <button type="submit" disabled={reason.trim() === ''}>
              廃棄する
            </button>
            <button type="button" className="secondary" onClick={() => setVoiding(undefined)}>
              取りやめる
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
