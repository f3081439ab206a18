/**
 * 照会: asks for the purpose first, then shows the current record, the household and the history as a
 * timeline. Hidden items read「非表示」; a staff member permitted to see one can reveal it (the server logs it).
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, call, messageOf, query, type SignedIn } from './api.js';
import {
  MASKED_LABEL,
  REVEAL_PERMISSION,
  SEX_LABEL,
  formatDate,
  formatFlexDate,
  suppressionLabel,
} from './format.js';
import type { HouseholdView, Inquiry as InquiryData, MaskableItem, RecordView } from './types.js';

interface Props {
  session: SignedIn;
  personNo: string;
  onBack: () => void;
  onOpen: (personNo: string) => void;
}

export function Inquiry({ session, personNo, onBack, onOpen }: Props) {
  const [purposes, setPurposes] = useState<string[] | undefined>();
  const [purpose, setPurpose] = useState('');
  const [chosen, setChosen] = useState<string | undefined>();
  const [data, setData] = useState<InquiryData | undefined>();
  const [household, setHousehold] = useState<HouseholdView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    call<{ purposes: string[] }>('GET', '/api/inquiry-purposes').then(
      (r) => setPurposes(r.purposes),
      (e: unknown) => setError(messageOf(e)),
    );
  }, []);

  const load = async (p: string, reveal: MaskableItem[], confirmSuppression: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const inquiry = await call<InquiryData>(
        'GET',
        `/api/residents/${encodeURIComponent(personNo)}${query({
          purpose: p,
          reveal: reveal.join(','),
          confirmSuppression: confirmSuppression ? 'true' : undefined,
        })}`,
      );
      setChosen(p);
      setConfirm(false);
      setData(inquiry);
      const h = await call<HouseholdView>(
        'GET',
        `/api/households/${encodeURIComponent(inquiry.current.householdNo)}${query({ purpose: p })}`,
      );
      setHousehold(h);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'SUPPRESSION_CONFIRMATION_REQUIRED') setConfirm(true);
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const submitPurpose = (e: FormEvent) => {
    e.preventDefault();
    if (purpose) void load(purpose, [], confirm);
  };

  const reveal = (item: MaskableItem) => {
    if (!chosen || !data) return;
    const shown = (['myNumber', 'residentCode', 'honseki', 'residenceStatus'] as const).filter(
      (i) => !data.current.masked.includes(i) && session.permissions.includes(REVEAL_PERMISSION[i]),
    );
    void load(chosen, [...shown, item], false);
  };

  return (
    <section aria-labelledby="inquiry-title">
      <div className="toolbar">
        <button type="button" className="secondary" onClick={onBack}>
          ← 検索に戻る
        </button>
      </div>
      <h1 id="inquiry-title">住民照会</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!data && (
        <form onSubmit={submitPurpose}>
          <p>照会の目的を選んでください（アクセス記録に残ります）。</p>
          <div className="field">
            <label htmlFor="inquiry-purpose">照会目的</label>
            <select
              id="inquiry-purpose"
              name="purpose"
              required
              autoFocus
              value={purpose}
              onChange={(e) => setPurpose(e.target.value)}
            >
              <option value="">選択してください</option>
              {(purposes ?? []).map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={busy || !purpose}>
            {confirm ? '抑止を確認して照会する' : '照会する'}
          </button>
        </form>
      )}
      {data && (
        <>
          <p className="purpose">照会目的: {chosen}</p>
          <Current data={data} session={session} onReveal={reveal} busy={busy} />
          {household && <Household household={household} current={personNo} onOpen={onOpen} />}
          <History data={data} />
        </>
      )}
    </section>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

interface CurrentProps {
  data: InquiryData;
  session: SignedIn;
  busy: boolean;
  onReveal: (item: MaskableItem) => void;
}

function Current({ data, session, busy, onReveal }: CurrentProps) {
  const r = data.current;
  const masked = (item: MaskableItem, shown: ReactNode) => {
    if (!r.masked.includes(item)) return shown;
    return (
      <>
        <span className="masked">非表示</span>
        {session.permissions.includes(REVEAL_PERMISSION[item]) && (
          <button
            type="button"
            className="reveal"
            disabled={busy}
            aria-label={`${MASKED_LABEL[item]}を表示`}
            onClick={() => onReveal(item)}
          >
            表示
          </button>
        )}
      </>
    );
  };
  return (
    <section aria-labelledby="current-title">
      <h2 id="current-title">
        現在の記録{' '}
        {data.removed ? (
          <span className="badge removed">除票（{data.statusLabel}）</span>
        ) : (
          <span className="badge">{data.statusLabel}</span>
        )}
        {data.suppressions.map((s) => (
          <span key={`${s.process}-${s.level}`} className="badge suppressed">
            {suppressionLabel(s)}
          </span>
        ))}
      </h2>
      {data.editLock && !data.editLock.mine && (
        <p className="notice" role="status">
          職員 {data.editLock.staffId} が編集中です（閲覧のみ）。
        </p>
      )}
      <dl className="record">
        <Row label="宛名番号">{r.personNo}</Row>
        <Row label="氏名">{nameOf(r)}</Row>
        <Row label="ふりがな">
          {r.reading.family} {r.reading.given}
          {r.reading.status === 'notCertified' && <span className="hint">（未確認）</span>}
        </Row>
        {r.foreign && <Row label="氏名（英字）">{r.foreign.latinName}</Row>}
        {r.foreign?.alias && <Row label="通称">{r.foreign.alias.name}</Row>}
        {r.formerSurname && <Row label="旧氏">{r.formerSurname.surname}</Row>}
        <Row label="生年月日">{formatFlexDate(r.birthDate)}</Row>
        <Row label="性別">{SEX_LABEL[r.sex]}</Row>
        <Row label="世帯番号">{r.householdNo}</Row>
        <Row label="続柄">{r.relationship}</Row>
        <Row label="住所">
          {r.address.postalCode && `〒${r.address.postalCode} `}
          {r.address.text} {r.address.katagaki}
        </Row>
        <Row label="住民となった年月日">{formatDate(r.residentSince)}</Row>
        <Row label="住所を定めた年月日">{formatDate(r.addressSetOn)}</Row>
        <Row label="届出の年月日">{formatDate(r.notifiedOn)}</Row>
        {r.previousAddress && <Row label="前住所">{r.previousAddress.text}</Row>}
        {r.kind === 'japanese' && <Row label="本籍・筆頭者">{masked('honseki', honsekiOf(r))}</Row>}
        {r.foreign && (
          <>
            <Row label="国籍・地域">{r.foreign.nationality}</Row>
            <Row label="外国人住民となった年月日">{formatDate(r.foreign.foreignResidentSince)}</Row>
            <Row label="在留資格等">
              {masked(
                'residenceStatus',
                [r.foreign.status.residenceStatus, r.foreign.status.periodOfStay, r.foreign.status.expiryDate]
                  .filter(Boolean)
                  .join(' / '),
              )}
            </Row>
          </>
        )}
        <Row label="個人番号">{masked('myNumber', r.myNumber ?? '（記載なし）')}</Row>
        <Row label="住民票コード">{masked('residentCode', r.residentCode ?? '（記載なし）')}</Row>
        {r.plannedMoveOut && (
          <Row label="転出予定">
            {formatDate(r.plannedMoveOut.plannedDate)} {r.plannedMoveOut.destination.text}
          </Row>
        )}
        {r.removal && <Row label="消除">{formatDate(r.removal.effectiveDate)}</Row>}
        {r.remarks && <Row label="備考">{r.remarks}</Row>}
      </dl>
    </section>
  );
}

function nameOf(r: RecordView): string {
  if (r.name) return `${r.name.family} ${r.name.given}`.trim();
  return r.foreign?.latinName ?? '';
}

function honsekiOf(r: RecordView): string {
  const h = r.honseki;
  if (!h) return '（記載なし）';
  switch (h.kind) {
    case 'registered':
      return `${h.address}（筆頭者: ${h.familyRegisterHead}）`;
    case 'none':
      return '無籍';
    case 'unknown':
      return '不詳';
  }
}

interface HouseholdProps {
  household: HouseholdView;
  current: string;
  onOpen: (personNo: string) => void;
}

function Household({ household, current, onOpen }: HouseholdProps) {
  const rows = [...household.members, ...household.formerMembers];
  return (
    <section aria-labelledby="household-title">
      <h2 id="household-title">世帯（世帯番号 {household.householdNo}）</h2>
      <p>
        世帯主: {household.head?.name ?? '—'}　住所: {household.address ?? '—'}
      </p>
      <table className="results">
        <thead>
          <tr>
            <th scope="col">宛名番号</th>
            <th scope="col">氏名</th>
            <th scope="col">ふりがな</th>
            <th scope="col">続柄</th>
            <th scope="col">状態</th>
            <th scope="col">
              <span className="visually-hidden">操作</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((m) => (
            <tr key={m.personNo} className={m.removed ? 'removed' : undefined}>
              <td>{m.personNo}</td>
              <td>{m.name}</td>
              <td>{m.reading}</td>
              <td>{m.relationship}</td>
              <td>{m.removed ? <span className="badge removed">除票</span> : '住民'}</td>
              <td>
                {m.personNo === current ? (
                  '照会中'
                ) : (
                  <button type="button" className="secondary" onClick={() => onOpen(m.personNo)}>
                    照会
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function History({ data }: { data: InquiryData }) {
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">履歴（{data.history.length}件）</h2>
      <ol className="timeline">
        {[...data.history].reverse().map((h) => (
          <li key={h.historySeq} className={h.cancelledByChangeId ? 'cancelled' : undefined}>
            <div className="timeline-date">{formatDate(h.effectiveDate)}</div>
            <div className="timeline-body">
              <strong>{h.reasonLabel}</strong>
              <span className="hint">
                {' '}
                履歴番号 {h.historySeq}・処理日 {formatDate(h.processedOn)}
                {h.notifiedOn && `・届出日 ${formatDate(h.notifiedOn)}`}
              </span>
              {h.cancelledByChangeId && <span className="badge removed">取消済み</span>}
              {h.cancelsChangeId && <span className="badge">異動 {h.cancelsChangeId} の取消し</span>}
              <div>
                {[
                  nameOf(h.record),
                  [h.record.address.text, h.record.address.katagaki].filter(Boolean).join(' '),
                  h.record.relationship,
                ].join('　')}
              </div>
              {h.notes && <div className="hint">{h.notes}</div>}
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
