/**
 * 支援措置 (officer only): receive an application (the provisional measure starts), the deadlines list, and
 * one measure's details (viewing is logged) with its actions — decide, reject, extend, terminate, release
 * one case.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { call, messageOf } from '../api.js';
import { formatDate } from '../format.js';
import { todayIso } from '../format.js';
import { Field } from './fields.js';

const BLOCKED_SERVICE_LABEL: Record<string, string> = {
  residentCopy: '住民票の写し等の交付',
  familyRegisterAttachment: '戸籍の附票の写しの交付',
  kiosk: 'コンビニ交付',
};

const STATUS_LABEL: Record<string, string> = {
  provisional: '仮措置（審査中）',
  active: '支援中',
  rejected: '不支援（却下）',
  ended: '終了',
  transferred: '転出により引継ぎ',
};

const EVENT_LABEL: Record<string, string> = {
  applied: '申出受付（仮措置）',
  decided: '支援決定',
  rejected: '不支援決定',
  extended: '延長',
  terminated: '終了',
  transferred: '転出先へ引継ぎ',
  caseReleased: '1件限りの解除',
};

interface Summary {
  measureId: number;
  status: string;
  applicantPersonNo: string;
  protectedPersonNos: string[];
  startsOn: string;
  endsOn: string;
  appliedOn: string | null;
  decidedOn: string | null;
  closedOn: string | null;
  transferredTo: string | null;
  blockedServices: string[];
}

interface Details extends Summary {
  applicantRelation: string | null;
  protectedPersons: Array<{ personNo: string; relation: string | null }>;
  perpetrator: { name: string; birthDate?: string; address?: string; notes?: string };
  reason: string;
  events: Array<{
    kind: string;
    onDate: string;
    startsOn: string | null;
    endsOn: string | null;
    staffId: string;
  }>;
  caseReleases: Array<{
    releaseId: number;
    reason: string;
    releasedBy: string;
    releasedAt: string;
    usedAt: string | null;
  }>;
}

interface Deadline {
  measureId: number;
  applicantPersonNo: string;
  status: string;
  endsOn: string;
  kind: 'endingSoon' | 'ended';
  daysLeft: number;
  extensionOpensOn: string;
}

interface Other {
  personNo: string;
  relation: string;
}

export function SupportMeasures() {
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [measureNo, setMeasureNo] = useState('');
  const [details, setDetails] = useState<Details | undefined>();
  const [deadlines, setDeadlines] = useState<Deadline[] | undefined>();
  const id = useId();

  const report = (e: unknown) => {
    setNotice(undefined);
    setError(messageOf(e));
  };

  const loadDeadlines = useCallback(async () => {
    try {
      setDeadlines(
        (await call<{ deadlines: Deadline[] }>('GET', '/api/protection/support-measures/deadlines'))
          .deadlines,
      );
    } catch (e) {
      setError(messageOf(e));
    }
  }, []);

  useEffect(() => {
    void loadDeadlines();
  }, [loadDeadlines]);

  const open = async (measureId: number) => {
    setError(undefined);
    try {
      setDetails(await call<Details>('GET', `/api/protection/support-measures/${measureId}`));
      setMeasureNo(String(measureId));
    } catch (e) {
      setDetails(undefined);
      report(e);
    }
  };

  const done = async (message: string, measureId: number) => {
    setError(undefined);
    setNotice(message);
    await open(measureId);
    await loadDeadlines();
  };

  return (
    <section aria-label="支援措置">
      <h2>支援措置</h2>
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

      <ApplyForm
        onApplied={(m) =>
          void done(`申出を受け付けました（支援措置番号 ${m.measureId}、仮措置を開始）。`, m.measureId)
        }
        onError={report}
      />

      <h3>支援措置の表示・操作</h3>
      <form
        className="search-form"
        aria-label="支援措置の表示"
        onSubmit={(e) => {
          e.preventDefault();
          const n = Number(measureNo.trim());
          if (Number.isInteger(n) && n > 0) void open(n);
        }}
      >
        <Field id={`${id}-measure`} label="支援措置番号" value={measureNo} onChange={setMeasureNo} />
        <div className="actions">
          <button type="submit" disabled={measureNo.trim() === ''}>
            詳細を表示
          </button>
        </div>
      </form>
      {details && (
        <MeasureDetails details={details} onDone={(m) => void done(m, details.measureId)} onError={report} />
      )}

      <h3>期限の近い・終了した支援措置</h3>
      <button type="button" className="secondary" onClick={() => void loadDeadlines()}>
        再読込
      </button>
      {deadlines && deadlines.length === 0 && <p>該当する支援措置はありません。</p>}
      {deadlines && deadlines.length > 0 && (
        <table className="results">
          <thead>
            <tr>
              <th>支援措置番号</th>
              <th>申出者（宛名番号）</th>
              <th>状態</th>
              <th>終了日</th>
              <th>残り日数</th>
              <th>延長の受付開始日</th>
              <th>
                <span className="visually-hidden">操作</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deadlines.map((d) => (
              <tr key={d.measureId}>
                <td>{d.measureId}</td>
                <td>{d.applicantPersonNo}</td>
                <td>
                  {STATUS_LABEL[d.status] ?? d.status}
                  {d.kind === 'ended' && <span className="badge suppressed">期間終了</span>}
                </td>
                <td>{formatDate(d.endsOn)}</td>
                <td>{d.daysLeft}日</td>
                <td>{formatDate(d.extensionOpensOn)}</td>
                <td>
                  <button type="button" className="secondary" onClick={() => void open(d.measureId)}>
                    詳細
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ApplyForm(props: { onApplied: (m: Summary) => void; onError: (e: unknown) => void }) {
  const id = useId();
  const [applicant, setApplicant] = useState('');
  const [relation, setRelation] = useState('');
  const [others, setOthers] = useState<Other[]>([]);
  const [pName, setPName] = useState('');
  const [pBirth, setPBirth] = useState('');
  const [pAddress, setPAddress] = useState('');
  const [pNotes, setPNotes] = useState('');
  const [blocked, setBlocked] = useState<string[]>(['residentCopy', 'familyRegisterAttachment', 'kiosk']);
  const [reason, setReason] = useState('');
  const [appliedOn, setAppliedOn] = useState(todayIso());
  const [busy, setBusy] = useState(false);

  const opt = (s: string) => (s.trim() === '' ? undefined : s.trim());
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const m = await call<Summary>('POST', '/api/protection/support-measures', {
        body: {
          applicant: { personNo: applicant.trim(), relation: opt(relation) },
          protectedPersons: others
            .filter((o) => o.personNo.trim() !== '')
            .map((o) => ({ personNo: o.personNo.trim(), relation: opt(o.relation) })),
          perpetrator: {
            name: pName.trim(),
            birthDate: opt(pBirth),
            address: opt(pAddress),
            notes: opt(pNotes),
          },
          blockedServices: blocked,
          reason: reason.trim(),
          appliedOn: opt(appliedOn),
        },
      });
      props.onApplied(m);
      setApplicant('');
      setRelation('');
      setOthers([]);
      setPName('');
      setPBirth('');
      setPAddress('');
      setPNotes('');
      setReason('');
    } catch (err) {
      props.onError(err);
    } finally {
      setBusy(false);
    }
  };

  const setOther = (i: number, o: Partial<Other>) =>
    setOthers((list) => list.map((x, j) => (i === j ? { ...x, ...o } : x)));

  return (
    <>
      <h3>申出の受付</h3>
      <form className="search-form" aria-label="支援措置の申出" onSubmit={(e) => void submit(e)}>
        <Field id={`${id}-applicant`} label="申出者の宛名番号" value={applicant} onChange={setApplicant} />
        <Field
          id={`${id}-relation`}
          label="申出者と加害者の関係（任意）"
          value={relation}
          onChange={setRelation}
        />
        {others.map((o, i) => (
          <fieldset key={i} className="field" style={{ alignSelf: 'start' }}>
            <legend>併せて支援を求める者 {i + 1}</legend>
            <Field
              id={`${id}-other-${i}-no`}
              label={`併せて支援を求める者 ${i + 1} の宛名番号`}
              value={o.personNo}
              onChange={(v) => setOther(i, { personNo: v })}
            />
            <Field
              id={`${id}-other-${i}-rel`}
              label={`併せて支援を求める者 ${i + 1} の申出者との関係（任意）`}
              value={o.relation}
              onChange={(v) => setOther(i, { relation: v })}
            />
            <button
              type="button"
              className="secondary"
              onClick={() => setOthers((list) => list.filter((_, j) => j !== i))}
            >
              この方を外す
            </button>
          </fieldset>
        ))}
        <div className="field">
          <button
            type="button"
            className="secondary"
            onClick={() => setOthers((list) => [...list, { personNo: '', relation: '' }])}
          >
            併せて支援を求める者を追加
          </button>
        </div>
        <Field id={`${id}-p-name`} label="加害者の氏名" value={pName} onChange={setPName} />
        <Field
          id={`${id}-p-birth`}
          label="加害者の生年月日（分かる範囲・任意）"
          value={pBirth}
          onChange={setPBirth}
        />
        <Field id={`${id}-p-address`} label="加害者の住所（任意）" value={pAddress} onChange={setPAddress} />
        <Field
          id={`${id}-p-notes`}
          label="加害者についての備考（任意）"
          value={pNotes}
          onChange={setPNotes}
          multiline
        />
        <fieldset className="field" style={{ alignSelf: 'start' }}>
          <legend>制限する交付</legend>
          {Object.entries(BLOCKED_SERVICE_LABEL).map(([k, v]) => (
            <label key={k}>
              <input
                type="checkbox"
                checked={blocked.includes(k)}
                onChange={() => setBlocked((b) => (b.includes(k) ? b.filter((x) => x !== k) : [...b, k]))}
              />
              {v}
            </label>
          ))}
        </fieldset>
        <Field
          id={`${id}-reason`}
          label="申出の理由（被害の内容・状況）"
          value={reason}
          onChange={setReason}
          multiline
        />
        <Field id={`${id}-applied`} label="申出日" type="date" value={appliedOn} onChange={setAppliedOn} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            申出を受け付ける
          </button>
        </div>
      </form>
    </>
  );
}

function MeasureDetails(props: {
  details: Details;
  onDone: (message: string) => void;
  onError: (e: unknown) => void;
}) {
  const d = props.details;
  const id = useId();
  const [startsOn, setStartsOn] = useState(todayIso());
  const [caseReason, setCaseReason] = useState('');
  const [rejectReason, setRejectReason] = useState('');
  const base = `/api/protection/support-measures/${d.measureId}`;

  const post = async (path: string, body: unknown, message: string) => {
    try {
      await call('POST', `${base}/${path}`, { body });
      props.onDone(message);
    } catch (e) {
      props.onError(e);
    }
  };
  const open = d.status === 'provisional' || d.status === 'active';

  return (
    <section aria-label={`支援措置 ${d.measureId} の詳細`}>
      <h4>支援措置 {d.measureId}（担当者のみ・参照は記録されます）</h4>
      <dl className="record">
        <dt>状態</dt>
        <dd>{STATUS_LABEL[d.status] ?? d.status}</dd>
        <dt>期間</dt>
        <dd>
          {formatDate(d.startsOn)}〜{formatDate(d.endsOn)}
        </dd>
        <dt>申出日</dt>
        <dd>{formatDate(d.appliedOn ?? undefined)}</dd>
        <dt>決定日</dt>
        <dd>{formatDate(d.decidedOn ?? undefined)}</dd>
        <dt>終了日</dt>
        <dd>{formatDate(d.closedOn ?? undefined)}</dd>
        <dt>申出者</dt>
        <dd>
          {d.applicantPersonNo}
          {d.applicantRelation && `（${d.applicantRelation}）`}
        </dd>
        <dt>併せて支援を求める者</dt>
        <dd>
          {d.protectedPersons.length === 0
            ? 'なし'
            : d.protectedPersons
                .map((p) => `${p.personNo}${p.relation ? `（${p.relation}）` : ''}`)
                .join('、')}
        </dd>
        <dt>制限する交付</dt>
        <dd>{d.blockedServices.map((s) => BLOCKED_SERVICE_LABEL[s] ?? s).join('、')}</dd>
        <dt>加害者</dt>
        <dd>
          {d.perpetrator.name}
          {d.perpetrator.birthDate && ` ／ 生年月日 ${d.perpetrator.birthDate}`}
          {d.perpetrator.address && ` ／ 住所 ${d.perpetrator.address}`}
          {d.perpetrator.notes && ` ／ ${d.perpetrator.notes}`}
        </dd>
        <dt>申出の理由</dt>
        <dd>{d.reason}</dd>
        <dt>経過</dt>
        <dd>
          {d.events.map((e, i) => (
            <div key={i}>
              {formatDate(e.onDate)} {EVENT_LABEL[e.kind] ?? e.kind}
              {e.endsOn && `（〜${formatDate(e.endsOn)}）`}
            </div>
          ))}
        </dd>
        <dt>1件限りの解除</dt>
        <dd>
          {d.caseReleases.length === 0
            ? 'なし'
            : d.caseReleases.map((r) => (
                <div key={r.releaseId}>
                  {new Date(r.releasedAt).toLocaleString('ja-JP')} {r.reason}
                  {r.usedAt ? '（使用済み）' : '（未使用）'}
                </div>
              ))}
        </dd>
      </dl>

      {d.status === 'provisional' && (
        <form
          className="search-form"
          aria-label="支援の決定"
          onSubmit={(e) => {
            e.preventDefault();
            void post('decide', { startsOn }, '支援を決定しました。');
          }}
        >
          <Field id={`${id}-starts`} label="支援開始日" type="date" value={startsOn} onChange={setStartsOn} />
          <div className="actions">
            <button type="submit">支援を決定</button>
          </div>
        </form>
      )}
      {d.status === 'provisional' && (
        <form
          className="search-form"
          aria-label="不支援の決定"
          onSubmit={(e) => {
            e.preventDefault();
            void post(
              'reject',
              rejectReason.trim() ? { reason: rejectReason.trim() } : {},
              '不支援を決定しました。',
            );
          }}
        >
          <Field
            id={`${id}-reject`}
            label="不支援の理由（任意）"
            value={rejectReason}
            onChange={setRejectReason}
          />
          <div className="actions">
            <button type="submit" className="secondary">
              不支援を決定
            </button>
          </div>
        </form>
      )}
      {open && (
        <div className="actions">
          <button type="button" onClick={() => void post('extend', {}, '支援期間を延長しました。')}>
            支援期間を延長
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => void post('terminate', {}, '支援を終了しました。')}
          >
            支援を終了（終了通知）
          </button>
        </div>
      )}
      {open && (
        <form
          className="search-form"
          aria-label="1件限りの解除"
          onSubmit={(e) => {
            e.preventDefault();
            void post(
              'case-releases',
              { reason: caseReason.trim() },
              '1件限りの解除を記録しました（次の1回の交付を認めます）。',
            );
            setCaseReason('');
          }}
        >
          <Field id={`${id}-case`} label="1件限りの解除の理由" value={caseReason} onChange={setCaseReason} />
          <div className="actions">
            <button type="submit" disabled={caseReason.trim() === ''}>
              1件限りの解除
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
