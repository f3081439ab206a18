/**
 * 証明書発行: choose the type, the subjects (a whole household or chosen members), the items and the
 * requester; preview the PDF (a sample, nothing recorded but the inquiry); issue it (issue number and fee
 * shown with the PDF); void a mis-issue with its reason. The PDF lives only in a blob: URL in memory, revoked
 * when it is replaced or the screen is left.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { call, messageOf, query } from '../api.js';
import type { AreaProps } from '../areas.js';
import type { SearchHit, SearchResult } from '../types.js';
import { postForPdf, RefusalError } from './pdf.js';
import { IssuanceList } from './IssuanceList.js';
import {
  CERTIFICATE_ITEMS,
  CERTIFICATE_TYPES,
  ITEM_LABEL,
  REQUESTER_LABEL,
  TYPE_LABEL,
  type CertificateItem,
  type CertificateType,
  type RequesterType,
} from './labels.js';

interface Form {
  type: CertificateType;
  subject: 'household' | 'persons';
  householdNo: string;
  personNos: string[];
  items: CertificateItem[];
  withHistory: boolean;
  requesterType: RequesterType;
  selfPersonNo: string;
  govBody: string;
  govLegalBasis: string;
  govOfficer: string;
  tpName: string;
  tpAddress: string;
  tpReason: string;
  tpPurpose: string;
  printerId: string;
}

const EMPTY: Form = {
  type: 'residentCopy',
  subject: 'household',
  householdNo: '',
  personNos: [],
  items: [],
  withHistory: false,
  requesterType: 'self',
  selfPersonNo: '',
  govBody: '',
  govLegalBasis: '',
  govOfficer: '',
  tpName: '',
  tpAddress: '',
  tpReason: '',
  tpPurpose: '',
  printerId: 'P1',
};

interface Shown {
  url: string;
  kind: 'preview' | 'issued';
  pages: string | null;
  issuanceId?: number;
  issueNumber?: string;
  fee?: string;
  voided?: boolean;
}

const opt = (s: string) => (s.trim() === '' ? undefined : s.trim());

function requestOf(f: Form, confirmed: boolean): Record<string, unknown> {
  const requester =
    f.requesterType === 'self'
      ? { type: 'self', personNo: f.selfPersonNo.trim() }
      : f.requesterType === 'government'
        ? {
            type: 'government',
            body: opt(f.govBody),
            legalBasis: opt(f.govLegalBasis),
            officer: opt(f.govOfficer),
          }
        : {
            type: 'thirdParty',
            name: opt(f.tpName),
            address: opt(f.tpAddress),
            reason: opt(f.tpReason),
            purpose: opt(f.tpPurpose),
          };
  return {
    type: f.type,
    ...(f.subject === 'household' ? { householdNo: f.householdNo.trim() } : { personNos: f.personNos }),
    withHistory: f.withHistory,
    items: f.items,
    requester,
    printerId: f.printerId.trim() || 'P1',
    confirmed,
  };
}

export function Certificates(_props: AreaProps) {
  const id = useId();
  const [form, setForm] = useState<Form>(EMPTY);
  const [lookupNo, setLookupNo] = useState('');
  const [found, setFound] = useState<SearchHit[]>([]);
  const [lookupError, setLookupError] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirmation, setConfirmation] = useState<
    { message: string; action: 'preview' | 'issue' } | undefined
  >();
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState<Shown | undefined>();
  const [voidReason, setVoidReason] = useState('');
  const [notice, setNotice] = useState<string | undefined>();
  const [listVersion, setListVersion] = useState(0);

  // The PDF's blob: URL is revoked when replaced and when the screen is left.
  useEffect(() => {
    const url = shown?.url;
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [shown?.url]);

  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const toggleItem = (item: CertificateItem) =>
    setForm((f) => ({
      ...f,
      items: f.items.includes(item) ? f.items.filter((i) => i !== item) : [...f.items, item],
    }));
  const togglePerson = (personNo: string) =>
    setForm((f) => ({
      ...f,
      personNos: f.personNos.includes(personNo)
        ? f.personNos.filter((p) => p !== personNo)
        : [...f.personNos, personNo],
    }));

  /** Finds a person by 宛名番号, or a household's members by 世帯番号, to choose from. */
  const lookup = async (e: FormEvent) => {
    e.preventDefault();
    setLookupError(undefined);
    const no = lookupNo.trim();
    if (!no) return;
    try {
      const byPerson = await call<SearchResult>(
        'GET',
        `/api/residents${query({ personNo: no, status: 'all' })}`,
      );
      const first = byPerson.hits[0];
      if (!first) {
        setFound([]);
        setLookupError('該当する住民が見つかりません。宛名番号を確認してください。');
        return;
      }
      const household = await call<SearchResult>(
        'GET',
        `/api/residents${query({ householdNo: first.householdNo, status: 'all', pageSize: 100 })}`,
      );
      setFound(household.hits.length ? household.hits : byPerson.hits);
      setForm((f) => ({
        ...f,
        householdNo: first.householdNo,
        personNos: f.personNos.includes(first.personNo) ? f.personNos : [...f.personNos, first.personNo],
      }));
    } catch (err) {
      setLookupError(messageOf(err));
    }
  };

  const run = async (action: 'preview' | 'issue', confirmed: boolean) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    setConfirmation(undefined);
    try {
      const url = action === 'preview' ? '/api/certificates/preview' : '/api/certificates';
      const { blob, headers } = await postForPdf(url, requestOf(form, confirmed));
      const next: Shown = {
        url: URL.createObjectURL(blob),
        kind: action === 'preview' ? 'preview' : 'issued',
        pages: headers.get('x-certificate-pages'),
      };
      if (action === 'issue') {
        next.issuanceId = Number(headers.get('x-issuance-id'));
        next.issueNumber = decodeURIComponent(headers.get('x-issue-number') ?? '');
        next.fee = headers.get('x-certificate-fee') ?? '';
        setListVersion((v) => v + 1);
      }
      setShown(next);
      setVoidReason('');
    } catch (err) {
      if (err instanceof RefusalError && err.code === 'SUPPRESSION_CONFIRMATION_REQUIRED') {
        setConfirmation({ message: err.message, action });
      } else {
        setError(messageOf(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const voidIssuance = async (issuanceId: number, reason: string): Promise<boolean> => {
    setError(undefined);
    setNotice(undefined);
    try {
      await call('POST', `/api/certificates/issuances/${issuanceId}/void`, { body: { reason } });
      setNotice(`交付記録 ${issuanceId} を廃棄（無効）として記録しました。`);
      setShown((s) => (s && s.issuanceId === issuanceId ? { ...s, voided: true } : s));
      setListVersion((v) => v + 1);
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    }
  };

  const clearForm = () => {
    setForm(EMPTY);
    setFound([]);
    setLookupNo('');
    setShown(undefined);
    setError(undefined);
    setNotice(undefined);
    setConfirmation(undefined);
  };

  const f = form;
  return (
    <section className="certificates">
      <h1>証明書発行</h1>

      <form
        className="search-form"
        aria-label="証明書の請求内容"
        onSubmit={(e) => {
          e.preventDefault();
          void run('preview', false);
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-type`}>証明書の種類</label>
          <select
            id={`${id}-type`}
            value={f.type}
            onChange={(e) => set('type', e.target.value as CertificateType)}
          >
            {CERTIFICATE_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </select>
        </div>

        <fieldset className="field" style={{ alignSelf: 'start' }}>
          <legend>対象</legend>
          <label>
            <input
              type="radio"
              name={`${id}-subject`}
              checked={f.subject === 'household'}
              onChange={() => set('subject', 'household')}
            />
            世帯全員（世帯番号）
          </label>
          <label>
            <input
              type="radio"
              name={`${id}-subject`}
              checked={f.subject === 'persons'}
              onChange={() => set('subject', 'persons')}
            />
            選んだ方（宛名番号）
          </label>
        </fieldset>

        {f.subject === 'household' ? (
          <div className="field">
            <label htmlFor={`${id}-household`}>世帯番号</label>
            <input
              id={`${id}-household`}
              value={f.householdNo}
              inputMode="numeric"
              onChange={(e) => set('householdNo', e.target.value)}
            />
          </div>
        ) : (
          <div className="field">
            <span id={`${id}-chosen`}>選んだ方の宛名番号</span>
            <p aria-labelledby={`${id}-chosen`}>
              {f.personNos.length ? f.personNos.join('、') : '（未選択）'}
            </p>
          </div>
        )}

        <fieldset className="field" style={{ alignSelf: 'start' }}>
          <legend>記載する事項</legend>
          {CERTIFICATE_ITEMS.map((item) => (
            <label key={item}>
              <input type="checkbox" checked={f.items.includes(item)} onChange={() => toggleItem(item)} />
              {ITEM_LABEL[item]}
            </label>
          ))}
          <label>
            <input
              type="checkbox"
              checked={f.withHistory}
              onChange={(e) => set('withHistory', e.target.checked)}
            />
            履歴（異動の経過）
          </label>
        </fieldset>

        <fieldset className="field" style={{ alignSelf: 'start' }}>
          <legend>請求者</legend>
          {(['self', 'government', 'thirdParty'] as const).map((t) => (
            <label key={t}>
              <input
                type="radio"
                name={`${id}-requester`}
                checked={f.requesterType === t}
                onChange={() => set('requesterType', t)}
              />
              {REQUESTER_LABEL[t]}
            </label>
          ))}
        </fieldset>

        {f.requesterType === 'self' && (
          <div className="field">
            <label htmlFor={`${id}-self`}>請求者の宛名番号</label>
            <input
              id={`${id}-self`}
              value={f.selfPersonNo}
              inputMode="numeric"
              onChange={(e) => set('selfPersonNo', e.target.value)}
            />
          </div>
        )}
        {f.requesterType === 'government' && (
          <>
            <TextField
              id={`${id}-gov-body`}
              label="請求機関の名称"
              value={f.govBody}
              onChange={(v) => set('govBody', v)}
            />
            <TextField
              id={`${id}-gov-basis`}
              label="法令上の根拠（事務の内容）"
              value={f.govLegalBasis}
              onChange={(v) => set('govLegalBasis', v)}
            />
            <TextField
              id={`${id}-gov-officer`}
              label="担当者（任意）"
              value={f.govOfficer}
              onChange={(v) => set('govOfficer', v)}
            />
          </>
        )}
        {f.requesterType === 'thirdParty' && (
          <>
            <TextField
              id={`${id}-tp-name`}
              label="請求者の氏名（名称）"
              value={f.tpName}
              onChange={(v) => set('tpName', v)}
            />
            <TextField
              id={`${id}-tp-address`}
              label="請求者の住所（任意）"
              value={f.tpAddress}
              onChange={(v) => set('tpAddress', v)}
            />
            <TextField
              id={`${id}-tp-reason`}
              label="請求の事由（正当な理由）"
              value={f.tpReason}
              onChange={(v) => set('tpReason', v)}
            />
            <TextField
              id={`${id}-tp-purpose`}
              label="利用目的"
              value={f.tpPurpose}
              onChange={(v) => set('tpPurpose', v)}
            />
          </>
        )}

        <TextField
          id={`${id}-printer`}
          label="プリンタ"
          value={f.printerId}
          onChange={(v) => set('printerId', v)}
        />

        <div className="actions">
          <button type="submit" disabled={busy}>
            プレビュー
          </button>
          <button type="button" disabled={busy} onClick={() => void run('issue', false)}>
            発行
          </button>
          <button type="button" className="secondary" onClick={clearForm}>
            クリア
          </button>
        </div>
      </form>

      <form className="search-form" aria-label="対象者の検索" onSubmit={(e) => void lookup(e)}>
        <div className="field">
          <label htmlFor={`${id}-lookup`}>宛名番号で対象者を探す</label>
          <input
            id={`${id}-lookup`}
            value={lookupNo}
            inputMode="numeric"
            onChange={(e) => setLookupNo(e.target.value)}
          />
        </div>
        <div className="actions">
          <button type="submit">世帯員を表示</button>
        </div>
      </form>
      {lookupError && (
        <p className="error" role="alert">
          {lookupError}
        </p>
      )}
      {found.length > 0 && (
        <table className="results" aria-label="世帯員">
          <thead>
            <tr>
              <th>選択</th>
              <th>宛名番号</th>
              <th>氏名</th>
              <th>続柄</th>
              <th>世帯番号</th>
              <th>状態</th>
              <th>
                <span className="visually-hidden">操作</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {found.map((h) => (
              <tr key={h.personNo} className={h.removed ? 'removed' : undefined}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${h.name}（${h.personNo}）を対象にする`}
                    checked={form.personNos.includes(h.personNo)}
                    onChange={() => togglePerson(h.personNo)}
                  />
                </td>
                <td>{h.personNo}</td>
                <td>{h.name}</td>
                <td>{h.relationship}</td>
                <td>{h.householdNo}</td>
                <td>
                  {h.removed ? <span className="badge removed">除票</span> : h.statusLabel}
                  {h.suppressions.length > 0 && <span className="badge suppressed">抑止</span>}
                </td>
                <td>
                  <button type="button" className="secondary" onClick={() => set('selfPersonNo', h.personNo)}>
                    請求者にする
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {confirmation && (
        <div className="notice" role="alert">
          <p>{confirmation.message}</p>
          <button type="button" onClick={() => void run(confirmation.action, true)}>
            抑止を確認済みとして{confirmation.action === 'issue' ? '発行' : 'プレビュー'}する
          </button>
          <button type="button" className="secondary" onClick={() => setConfirmation(undefined)}>
            取りやめる
          </button>
        </div>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}

      {shown && (
        <section aria-label={shown.kind === 'issued' ? '発行した証明書' : 'プレビュー'}>
          <h2>{shown.kind === 'issued' ? '発行しました' : 'プレビュー（見本・交付記録なし）'}</h2>
          {shown.kind === 'issued' && (
            <dl className="record issued">
              <dt>発行番号</dt>
              <dd data-testid="issue-number">{shown.issueNumber}</dd>
              <dt>交付記録番号</dt>
              <dd>{shown.issuanceId}</dd>
              <dt>枚数</dt>
              <dd>{shown.pages}</dd>
              <dt>手数料</dt>
              <dd>{shown.fee}円</dd>
            </dl>
          )}
          {shown.kind === 'preview' && <p>枚数: {shown.pages}</p>}
          <p>
            <a href={shown.url} target="_blank" rel="noreferrer">
              PDFを別の画面で開く（印刷）
            </a>
          </p>
          <iframe
            className="certificate-pdf"
            title={shown.kind === 'issued' ? '証明書PDF' : 'プレビューPDF'}
            src={shown.url}
            style={{ width: '100%', height: '40rem', border: '1px solid #ccc', background: '#fff' }}
          />
          {shown.voided && <p className="error">この証明書は廃棄（無効）として記録されています。</p>}
          {shown.kind === 'issued' && shown.issuanceId !== undefined && !shown.voided && (
            <form
              className="search-form"
              aria-label="誤交付の廃棄"
              onSubmit={(e) => {
                e.preventDefault();
                const issuanceId = shown.issuanceId;
                if (issuanceId !== undefined) void voidIssuance(issuanceId, voidReason);
              }}
            >
              <div className="field">
                <label htmlFor={`${id}-void`}>誤交付の廃棄の理由</label>
                <input id={`${id}-void`} value={voidReason} onChange={(e) => setVoidReason(e.target.value)} />
              </div>
              <div className="actions">
                <button type="submit" disabled={voidReason.trim() === ''}>
                  この証明書を廃棄する
                </button>
              </div>
            </form>
          )}
        </section>
      )}

      <IssuanceList version={listVersion} onVoid={voidIssuance} />
    </section>
  );
}

function TextField(props: { id: string; label: string; value: string; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </div>
  );
}
