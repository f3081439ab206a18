/**
 * 住民検索: every criterion on one form (Enter searches), results as a table whose rows take the focus
 * and open with Enter. Removed records (除票) and suppressions (抑止) are marked.
 */
import { useState, type FormEvent, type KeyboardEvent } from 'react';
import { call, messageOf, query, type SignedIn } from './api.js';
import { SEX_LABEL, formatFlexDate, suppressionLabel } from './format.js';
import type { SearchResult } from './types.js';

export interface Criteria {
  name: string;
  birthDate: string;
  sex: '' | 'male' | 'female';
  address: string;
  personNo: string;
  householdNo: string;
  myNumber: string;
  residentCode: string;
  residenceCardNo: string;
  status: 'all' | 'current' | 'removed';
  /** 前方一致 (from the start) or 部分一致 (anywhere) for the name and the address. */
  match: 'prefix' | 'contains';
}

/** The search screen's state, kept by the shell (in memory) so that it survives opening a record. */
export interface SearchState {
  criteria: Criteria;
  page: number;
  result: SearchResult | undefined;
}

const EMPTY: Criteria = {
  name: '',
  birthDate: '',
  sex: '',
  address: '',
  personNo: '',
  householdNo: '',
  myNumber: '',
  residentCode: '',
  residenceCardNo: '',
  status: 'all',
  match: 'prefix',
};

const PAGE_SIZE = 20;

interface Props {
  session: SignedIn;
  state: SearchState | undefined;
  onState: (s: SearchState) => void;
  onOpen: (personNo: string) => void;
}

export function Search({ session, state, onState, onOpen }: Props) {
  const [criteria, setCriteria] = useState<Criteria>(state?.criteria ?? EMPTY);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const result = state?.result;
  const may = (p: string) => session.permissions.includes(p);

  const run = async (page: number) => {
    setBusy(true);
    setError(undefined);
    try {
      const c = criteria;
      const r = await call<SearchResult>(
        'GET',
        `/api/residents${query({
          name: c.name.trim(),
          birthDate: c.birthDate.trim(),
          sex: c.sex,
          address: c.address.trim(),
          personNo: c.personNo.trim(),
          householdNo: c.householdNo.trim(),
          myNumber: may('myNumberView') ? c.myNumber.trim() : undefined,
          residentCode: may('residentCodeView') ? c.residentCode.trim() : undefined,
          residenceCardNo: c.residenceCardNo.trim(),
          status: c.status,
          match: c.match,
          page,
          pageSize: PAGE_SIZE,
        })}`,
      );
      onState({ criteria: c, page, result: r });
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

  const field = (key: keyof Criteria, label: string, hint?: string) => (
    <div className="field">
      <label htmlFor={`search-${key}`}>{label}</label>
      <input
        id={`search-${key}`}
        name={key}
        autoComplete="off"
        value={criteria[key]}
        aria-describedby={hint ? `search-${key}-hint` : undefined}
        onChange={(e) => setCriteria({ ...criteria, [key]: e.target.value })}
      />
      {hint && (
        <small id={`search-${key}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );

  const openOnEnter = (e: KeyboardEvent, personNo: string) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      onOpen(personNo);
    }
  };

  const pages = result ? Math.max(1, Math.ceil(result.total / result.pageSize)) : 1;

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">住民検索</h1>
      <form className="search-form" onSubmit={submit} aria-label="検索条件">
        {field(
          'name',
          '氏名（かな・漢字・英字）',
          '先頭から入力します（例: サトウ タ）。通称・旧氏も対象です。',
        )}
        {field('birthDate', '生年月日', '例: S50.4.1、昭和50年4月1日、1975-04-01、昭和50年')}
        <div className="field">
          <label htmlFor="search-sex">性別</label>
          <select
            id="search-sex"
            name="sex"
            value={criteria.sex}
            onChange={(e) => setCriteria({ ...criteria, sex: e.target.value as Criteria['sex'] })}
          >
            <option value="">指定なし</option>
            <option value="male">男</option>
            <option value="female">女</option>
          </select>
        </div>
        {field(
          'address',
          '住所（方書を含む）',
          '先頭から入力します（市名は省略できます）。方書・建物名は部分一致で。過去の住所も対象です。',
        )}
        <div className="field">
          <label htmlFor="search-match">氏名・住所の一致方法</label>
          <select
            id="search-match"
            name="match"
            value={criteria.match}
            aria-describedby="search-match-hint"
            onChange={(e) => setCriteria({ ...criteria, match: e.target.value as Criteria['match'] })}
          >
            <option value="prefix">前方一致（先頭から）</option>
            <option value="contains">部分一致（途中の文字でも）</option>
          </select>
          <small id="search-match-hint" className="hint">
            部分一致は名だけ・方書などで探すときに。大きな市では時間がかかることがあります。
          </small>
        </div>
        {field('personNo', '宛名番号')}
        {field('householdNo', '世帯番号')}
        {may('myNumberView') && field('myNumber', '個人番号')}
        {may('residentCodeView') && field('residentCode', '住民票コード')}
        {field('residenceCardNo', '在留カード番号等')}
        <div className="field">
          <label htmlFor="search-status">状態</label>
          <select
            id="search-status"
            name="status"
            value={criteria.status}
            onChange={(e) => setCriteria({ ...criteria, status: e.target.value as Criteria['status'] })}
          >
            <option value="all">すべて（除票を含む）</option>
            <option value="current">住民のみ</option>
            <option value="removed">除票のみ</option>
          </select>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            検索
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
        <section aria-labelledby="results-title">
          <h2 id="results-title">
            検索結果 <span role="status">{result.tooMany ? '多数' : `${result.total}件`}</span>
          </h2>
          {result.tooMany ? (
            <p role="alert">
              該当する方が多すぎるため一覧にできません。生年月日・住所・名などの条件を加えて検索してください。
            </p>
          ) : result.hits.length === 0 ? (
            <p>該当する方はいません。条件を変えて検索してください。</p>
          ) : (
            <table className="results">
              <caption className="visually-hidden">検索結果（行を選んで Enter で照会）</caption>
              <thead>
                <tr>
                  <th scope="col">宛名番号</th>
                  <th scope="col">氏名</th>
                  <th scope="col">ふりがな</th>
                  <th scope="col">生年月日</th>
                  <th scope="col">性別</th>
                  <th scope="col">住所</th>
                  <th scope="col">続柄</th>
                  <th scope="col">状態</th>
                </tr>
              </thead>
              <tbody>
                {result.hits.map((h) => (
                  <tr
                    key={h.personNo}
                    tabIndex={0}
                    className={h.removed ? 'removed' : undefined}
                    aria-label={`${h.name} ${h.statusLabel}${h.removed ? ' 除票' : ''}${h.suppressions.length > 0 ? ' 抑止あり' : ''}`}
                    onClick={() => onOpen(h.personNo)}
                    onKeyDown={(e) => openOnEnter(e, h.personNo)}
                  >
                    <td>{h.personNo}</td>
                    <td>{h.name}</td>
                    <td>{h.reading}</td>
                    <td>{formatFlexDate(h.birthDate)}</td>
                    <td>{SEX_LABEL[h.sex]}</td>
                    <td>{h.address}</td>
                    <td>{h.relationship}</td>
                    <td>
                      {h.removed ? (
                        <span className="badge removed">除票（{h.statusLabel}）</span>
                      ) : (
                        h.statusLabel
                      )}
                      {h.plannedMoveOut && <span className="badge">転出予定</span>}
                      {h.suppressions.map((s) => (
                        <span key={`${s.process}-${s.level}`} className="badge suppressed">
                          {suppressionLabel(s)}
                        </span>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
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
