/**
 * アラート: the monitoring alerts, filtered by rule and by whether they were acknowledged (open ones by
 * default); an open alert is acknowledged with an optional note (the auditor's finding — never residents'
 * names or numbers).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { call, messageOf, query } from '../api.js';
import { RULE_LABEL, formatDetails, formatJst } from './labels.js';
import type { NameOf } from './names.js';

interface AlertView {
  alertId: number;
  rule: string;
  ruleLabel: string;
  staffId: string | null;
  subject: string;
  raisedAt: string;
  entrySeq: number | null;
  details: Record<string, unknown>;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  acknowledgementNote: string | null;
}

interface AlertPage {
  total: number;
  page: number;
  pageSize: number;
  alerts: AlertView[];
}

type Acknowledged = 'false' | 'true' | '';

const PAGE_SIZE = 50;

export function Alerts({ nameOf }: { nameOf: NameOf }) {
  const [rule, setRule] = useState('');
  const [acknowledged, setAcknowledged] = useState<Acknowledged>('false');
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<AlertPage | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [acking, setAcking] = useState<number | undefined>();
  const [note, setNote] = useState('');

  const load = useCallback(
    async (p: number) => {
      setBusy(true);
      setError(undefined);
      try {
        setResult(
          await call<AlertPage>(
            'GET',
            `/api/audit/alerts${query({ rule, acknowledged, page: p, pageSize: PAGE_SIZE })}`,
          ),
        );
        setPage(p);
      } catch (e) {
        setError(messageOf(e));
      } finally {
        setBusy(false);
      }
    },
    [rule, acknowledged],
  );

  useEffect(() => {
    void load(1);
  }, [load]);

  const filter = (e: FormEvent) => {
    e.preventDefault();
    void load(1);
  };

  const acknowledge = async (e: FormEvent, alert: AlertView) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await call<AlertView>('POST', `/api/audit/alerts/${alert.alertId}/acknowledge`, {
        body: note.trim() ? { note: note.trim() } : {},
      });
      setAcking(undefined);
      setNote('');
      setNotice(`アラート ${alert.alertId}（${alert.ruleLabel}）を確認済みにしました。`);
      await load(page);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };

  const pages = result ? Math.max(1, Math.ceil(result.total / result.pageSize)) : 1;

  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">アラート</h2>
      <form className="search-form" onSubmit={filter} aria-label="アラートの絞り込み">
        <div className="field">
          <label htmlFor="alert-rule">検知ルール</label>
          <select id="alert-rule" value={rule} onChange={(e) => setRule(e.target.value)}>
            <option value="">すべて</option>
            {Object.entries(RULE_LABEL).map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-acknowledged">確認状況</label>
          <select
            id="alert-acknowledged"
            value={acknowledged}
            onChange={(e) => setAcknowledged(e.target.value as Acknowledged)}
          >
            <option value="false">未確認のみ</option>
            <option value="true">確認済みのみ</option>
            <option value="">すべて</option>
          </select>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            再読み込み
          </button>
        </div>
      </form>
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
          <p>
            <span>{result.total}件</span>
          </p>
          {result.alerts.length === 0 ? (
            <p>該当するアラートはありません。</p>
          ) : (
            <table className="results alert-table">
              <caption className="visually-hidden">アラート（新しい順）</caption>
              <thead>
                <tr>
                  <th scope="col">番号</th>
                  <th scope="col">発生日時（日本時間）</th>
                  <th scope="col">検知ルール</th>
                  <th scope="col">操作者</th>
                  <th scope="col">内容</th>
                  <th scope="col">ログ番号</th>
                  <th scope="col">確認</th>
                </tr>
              </thead>
              <tbody>
                {result.alerts.map((a) => (
                  <tr key={a.alertId} className={a.acknowledgedAt ? 'acknowledged' : undefined}>
                    <td>{a.alertId}</td>
                    <td>{formatJst(a.raisedAt)}</td>
                    <td>{a.ruleLabel || RULE_LABEL[a.rule] || a.rule}</td>
                    <td>{nameOf(a.staffId)}</td>
                    <td>
                      {a.subject !== a.staffId && <div>対象: {nameOf(a.subject)}</div>}
                      {formatDetails(a.details).map((d) => (
                        <div key={d}>{d}</div>
                      ))}
                    </td>
                    <td>{a.entrySeq ?? ''}</td>
                    <td>
                      {a.acknowledgedAt ? (
                        <>
                          確認済み（{formatJst(a.acknowledgedAt)}、{nameOf(a.acknowledgedBy)}）
                          {a.acknowledgementNote && <div>メモ: {a.acknowledgementNote}</div>}
                        </>
                      ) : acking === a.alertId ? (
                        <form
                          onSubmit={(e) => void acknowledge(e, a)}
                          aria-label={`アラート ${a.alertId} の確認`}
                        >
                          <label htmlFor={`ack-note-${a.alertId}`}>
                            確認メモ（任意・氏名や番号は書かない）
                          </label>
                          <textarea
                            id={`ack-note-${a.alertId}`}
                            rows={2}
                            maxLength={1000}
                            value={note}
                            autoFocus
                            onChange={(e) => setNote(e.target.value)}
                          />
                          <div>
                            <button type="submit" disabled={busy}>
                              確認済みにする
                            </button>
                            <button
                              type="button"
                              className="secondary"
                              onClick={() => {
                                setAcking(undefined);
                                setNote('');
                              }}
                            >
                              やめる
                            </button>
                          </div>
                        </form>
                      ) : (
                        <button
                          type="button"
                          aria-label={`アラート ${a.alertId} を確認する`}
                          onClick={() => {
                            setAcking(a.alertId);
                            setNote('');
                            setNotice(undefined);
                          }}
                        >
                          確認する
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {pages > 1 && (
            <nav className="pager" aria-label="ページ">
              <button type="button" disabled={busy || page <= 1} onClick={() => void load(page - 1)}>
                前へ
              </button>
              <span>
                {page} / {pages} ページ
              </span>
              <button type="button" disabled={busy || page >= pages} onClick={() => void load(page + 1)}>
                次へ
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}
