/**
 * アクセスログの検索: by operator (職員ID), person (宛名番号), function, outcome and time (Japan time);
 * results newest first as a table.
 */
import { useState, type FormEvent } from 'react';
import { call, messageOf, query } from '../api.js';
import { FUNCTION_LABEL, OUTCOME_LABEL, formatJst, jstInputToIso } from './labels.js';
import type { NameOf } from './names.js';

export interface AccessLogEntry {
  seq: number;
  /** ログ番号: the seq in the log's first lane, `k-n` for the n-th entry of lane k. */
  entryNo: string;
  occurredAt: string;
  staffId: string | null;
  terminalId: string;
  function: string;
  purpose: string | null;
  targetPersons: string[];
  myNumberAccessed: boolean;
  myNumberPrinted: boolean;
  outcome: string;
}

interface AccessLogPage {
  total: number;
  page: number;
  pageSize: number;
  entries: AccessLogEntry[];
}

interface Criteria {
  staffId: string;
  personNo: string;
  function: string;
  outcome: string;
  from: string;
  to: string;
}

const EMPTY: Criteria = { staffId: '', personNo: '', function: '', outcome: '', from: '', to: '' };
const PAGE_SIZE = 50;
/** Persons listed in full per row; the rest are counted. */
const PERSONS_SHOWN = 5;

interface Props {
  /** Set when the auditor may also open records (the inquiry permission); else persons are plain text. */
  onOpenPerson: ((personNo: string) => void) | undefined;
  /** 「氏名（ID）」 of an operator. */
  nameOf: NameOf;
}

export function AccessLog({ onOpenPerson, nameOf }: Props) {
  const [criteria, setCriteria] = useState<Criteria>(EMPTY);
  const [result, setResult] = useState<AccessLogPage | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const run = async (page: number) => {
    setBusy(true);
    setError(undefined);
    try {
      const c = criteria;
      const r = await call<AccessLogPage>(
        'GET',
        `/api/audit/log${query({
          staffId: c.staffId.trim(),
          personNo: c.personNo.trim(),
          function: c.function,
          outcome: c.outcome,
          from: jstInputToIso(c.from),
          to: jstInputToIso(c.to),
          page,
          pageSize: PAGE_SIZE,
        })}`,
      );
      setResult(r);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(1);
  };

  const set = (key: keyof Criteria) => (e: { target: { value: string } }) =>
    setCriteria({ ...criteria, [key]: e.target.value });

  const pages = result ? Math.max(1, Math.ceil(result.total / result.pageSize)) : 1;

  return (
    <section aria-labelledby="log-title">
      <h2 id="log-title">アクセスログの検索</h2>
      <form className="search-form" onSubmit={submit} aria-label="ログの検索条件">
        <div className="field">
          <label htmlFor="log-staffId">操作者（職員ID）</label>
          <input id="log-staffId" autoComplete="off" value={criteria.staffId} onChange={set('staffId')} />
        </div>
        <div className="field">
          <label htmlFor="log-personNo">対象者（宛名番号）</label>
          <input id="log-personNo" autoComplete="off" value={criteria.personNo} onChange={set('personNo')} />
        </div>
        <div className="field">
          <label htmlFor="log-function">機能</label>
          <select id="log-function" value={criteria.function} onChange={set('function')}>
            <option value="">すべて</option>
            {Object.entries(FUNCTION_LABEL).map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-outcome">結果</label>
          <select id="log-outcome" value={criteria.outcome} onChange={set('outcome')}>
            <option value="">すべて</option>
            {Object.entries(OUTCOME_LABEL).map(([code, label]) => (
              <option key={code} value={code}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="log-from">期間の開始（日本時間、この時刻を含む）</label>
          <input id="log-from" type="datetime-local" value={criteria.from} onChange={set('from')} />
        </div>
        <div className="field">
          <label htmlFor="log-to">期間の終了（日本時間、この時刻を含まない）</label>
          <input id="log-to" type="datetime-local" value={criteria.to} onChange={set('to')} />
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            ログを検索
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setCriteria(EMPTY);
              setError(undefined);
            }}
          >
            条件をクリア
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <section aria-labelledby="log-results-title">
          <h3 id="log-results-title">
            検索結果 <span role="status">{result.total}件</span>
          </h3>
          {result.entries.length === 0 ? (
            <p>該当するログはありません。</p>
          ) : (
            <div className="table-scroll">
              <table className="results log-table">
                <caption className="visually-hidden">アクセスログ（新しい順）</caption>
                <thead>
                  <tr>
                    <th scope="col">番号</th>
                    <th scope="col">日時（日本時間）</th>
                    <th scope="col">操作者</th>
                    <th scope="col">端末</th>
                    <th scope="col">機能</th>
                    <th scope="col">目的</th>
                    <th scope="col">対象者</th>
                    <th scope="col">個人番号</th>
                    <th scope="col">結果</th>
                  </tr>
                </thead>
                <tbody>
                  {result.entries.map((e) => (
                    <tr key={e.seq} className={e.outcome === 'success' ? undefined : 'refused'}>
                      <td>{e.entryNo}</td>
                      <td>{formatJst(e.occurredAt)}</td>
                      <td>{nameOf(e.staffId)}</td>
                      <td>{e.terminalId}</td>
                      <td>{FUNCTION_LABEL[e.function] ?? e.function}</td>
                      <td>{e.purpose ?? ''}</td>
                      <td>
                        {e.targetPersons.slice(0, PERSONS_SHOWN).map((p) =>
                          onOpenPerson ? (
                            <button
                              key={p}
                              type="button"
                              className="link"
                              aria-label={`宛名番号 ${p} の記録を照会`}
                              onClick={() => onOpenPerson(p)}
                            >
                              {p}
                            </button>
                          ) : (
                            <span key={p} className="person-no">
                              {p}
                            </span>
                          ),
                        )}
                        {e.targetPersons.length > PERSONS_SHOWN && (
                          <span> ほか{e.targetPersons.length - PERSONS_SHOWN}名</span>
                        )}
                      </td>
                      <td>{e.myNumberPrinted ? '参照・印字' : e.myNumberAccessed ? '参照' : ''}</td>
                      <td>{OUTCOME_LABEL[e.outcome] ?? e.outcome}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {pages > 1 && (
            <nav className="pager" aria-label="ページ">
              <button
                type="button"
                disabled={busy || result.page <= 1}
                onClick={() => void run(result.page - 1)}
              >
                前へ
              </button>
              <span>
                {result.page} / {pages} ページ
              </span>
              <button
                type="button"
                disabled={busy || result.page >= pages}
                onClick={() => void run(result.page + 1)}
              >
                次へ
              </button>
            </nav>
          )}
        </section>
      )}
    </section>
  );
}
