/**
 * 異動入力: choose the change type, fill its form (inline checks; dates in the era or Gregorian calendar,
 * shown back as read), confirm what was entered and the records the server's dry run says the change will
 * write (every check of the real change already passed), register, and see the change number
 * with links to each person. The server's refusals are shown as its Japanese message; an alert-level
 * suppression (抑止) is shown and the clerk may register again having confirmed it. Nothing is kept in
 * browser storage.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, call, messageOf } from '../api.js';
import type { AreaProps } from '../areas.js';
import type { Draft } from './draft.js';
import {
  CancellationForm,
  CorrectionForm,
  DeathForm,
  HouseholdChangeForm,
  MoveOutForm,
  MoveWithinForm,
} from './ExistingForms.js';
import { BirthForm, MoveInForm } from './MoveInForm.js';
import { AliasForm, FormerSurnameForm, MyNumberChangeForm } from './NumberAndNameForms.js';
import { ResultingRecords, type ChangePreview } from './Preview.js';
import { LOCKED_MESSAGE } from './target.js';
import './changes.css';

const TYPES = [
  ['move-in', '転入'],
  ['birth', '出生'],
  ['move-within', '転居'],
  ['move-out', '転出'],
  ['household', '世帯変更（分離・合併・世帯主変更）'],
  ['death', '死亡'],
  ['correction', '修正（軽微・誤記・職権）'],
  ['my-number', '個人番号の変更'],
  ['former-surname', '旧氏の記載・削除'],
  ['alias', '通称の記載・削除'],
  ['cancellation', '異動の取消し'],
] as const;

type ChangeType = (typeof TYPES)[number][0];

interface ChangeResult {
  changeId: number;
  reason: string;
  effectiveDate: string;
  persons: Array<{ personNo: string; historySeq: number }>;
  householdNos: string[];
}

type Step =
  | { step: 'edit' }
  | { step: 'confirm'; draft: Draft; suppression: boolean; preview: ChangePreview }
  | { step: 'done'; draft: Draft; result: ChangeResult };

export function ChangeEntry({ session, onOpenPerson }: AreaProps) {
  const [type, setType] = useState<ChangeType>('move-in');
  const [formKey, setFormKey] = useState(0);
  const [step, setStep] = useState<Step>({ step: 'edit' });
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const resultHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (step.step === 'done') resultHeading.current?.focus();
  }, [step.step]);

  /** The dry run: the records the change would write. An alert-level 抑止 is shown, then confirmed. */
  const ready = async (draft: Draft) => {
    setBusy(true);
    setError(undefined);
    const preview = (body: Record<string, unknown>) =>
      call<ChangePreview>('POST', `/api/changes/${draft.path}/preview`, { body });
    try {
      setStep({ step: 'confirm', draft, suppression: false, preview: await preview(draft.body) });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'SUPPRESSION_CONFIRMATION_REQUIRED') {
        try {
          const shown = await preview({ ...draft.body, confirmSuppression: true });
          setStep({ step: 'confirm', draft, suppression: true, preview: shown });
        } catch (again) {
          setError(messageOf(again));
          return;
        }
      }
      setError(
        e instanceof ApiError && e.code === 'LOCKED_BY_OTHER'
          ? `${LOCKED_MESSAGE}${e.message}`
          : messageOf(e),
      );
    } finally {
      setBusy(false);
    }
  };

  const register = async (draft: Draft, confirmSuppression: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const body = confirmSuppression ? { ...draft.body, confirmSuppression: true } : draft.body;
      const result = await call<ChangeResult>('POST', `/api/changes/${draft.path}`, { body });
      setStep({ step: 'done', draft, result });
    } catch (e) {
      if (
        e instanceof ApiError &&
        e.code === 'SUPPRESSION_CONFIRMATION_REQUIRED' &&
        step.step === 'confirm'
      ) {
        setStep({ ...step, suppression: true });
      }
      setError(
        e instanceof ApiError && e.code === 'LOCKED_BY_OTHER'
          ? `${LOCKED_MESSAGE}${e.message}`
          : messageOf(e),
      );
    } finally {
      setBusy(false);
    }
  };

  const restart = () => {
    setStep({ step: 'edit' });
    setError(undefined);
    setFormKey(formKey + 1);
  };

  const formProps = { session, onReady: (draft: Draft) => void ready(draft) };
  const editing = step.step === 'edit';

  return (
    <section aria-labelledby="changes-title" className="changes">
      <h1 id="changes-title">異動入力</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* The form stays mounted while confirming, so that 「修正する」 returns to what was typed. */}
      <div hidden={!editing}>
        <div className="field change-type">
          <label htmlFor="change-type">異動の種類</label>
          <select
            id="change-type"
            name="change-type"
            value={type}
            onChange={(e) => {
              setType(e.target.value as ChangeType);
              setError(undefined);
            }}
          >
            {TYPES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div key={`${type}-${formKey}`}>
          {type === 'move-in' && <MoveInForm {...formProps} />}
          {type === 'birth' && <BirthForm {...formProps} />}
          {type === 'move-within' && <MoveWithinForm {...formProps} />}
          {type === 'move-out' && <MoveOutForm {...formProps} />}
          {type === 'household' && <HouseholdChangeForm {...formProps} />}
          {type === 'death' && <DeathForm {...formProps} />}
          {type === 'correction' && <CorrectionForm {...formProps} />}
          {type === 'my-number' && <MyNumberChangeForm {...formProps} />}
          {type === 'former-surname' && <FormerSurnameForm {...formProps} />}
          {type === 'alias' && <AliasForm {...formProps} />}
          {type === 'cancellation' && <CancellationForm {...formProps} />}
        </div>
      </div>
      {step.step === 'confirm' && (
        <section aria-labelledby="confirm-title" className="change-confirm">
          <h2 id="confirm-title">確認: {step.draft.title}</h2>
          <p>次の内容で登録します。入力内容と登録後の記録を確かめてください。</p>
          <h3>入力内容</h3>
          <Summary draft={step.draft} />
          <ResultingRecords preview={step.preview} />
          {step.suppression && (
            <p className="notice" role="status">
              抑止（警告）の内容を確認したうえで登録する場合は「抑止を確認して登録」を押してください。
            </p>
          )}
          <div className="actions">
            <button
              type="button"
              autoFocus
              disabled={busy}
              onClick={() => void register(step.draft, step.suppression)}
            >
              {step.suppression ? '抑止を確認して登録' : 'この内容で登録'}
            </button>
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => {
                setStep({ step: 'edit' });
                setError(undefined);
              }}
            >
              修正する
            </button>
          </div>
        </section>
      )}
      {step.step === 'done' && (
        <section aria-labelledby="done-title" className="change-done">
          <h2 id="done-title" tabIndex={-1} ref={resultHeading}>
            登録しました（異動番号 {step.result.changeId}）
          </h2>
          <p role="status">
            {step.draft.title}を異動番号 {step.result.changeId} として登録しました。
          </p>
          <Summary draft={step.draft} />
          <h3>対象の方</h3>
          <ul className="change-persons">
            {step.result.persons.map((p, i) => (
              <li key={p.personNo}>
                {step.draft.names?.[i] ?? ''} 宛名番号 {p.personNo}{' '}
                <button type="button" className="secondary" onClick={() => onOpenPerson(p.personNo)}>
                  {`${step.draft.names?.[i] ?? p.personNo} を照会`}
                </button>
              </li>
            ))}
          </ul>
          {step.result.householdNos.length > 0 && <p>世帯番号: {step.result.householdNos.join('、')}</p>}
          <button type="button" onClick={restart}>
            続けて入力
          </button>
        </section>
      )}
    </section>
  );
}

function Summary({ draft }: { draft: Draft }) {
  return (
    <dl className="record">
      <dt>異動の種類</dt>
      <dd>{draft.title}</dd>
      {draft.summary.map(([label, value], i) => (
        <div key={`${label}-${i}`} className="summary-row">
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
