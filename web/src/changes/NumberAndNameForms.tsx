/**
 * Changes of one person's number and names: 個人番号の変更 (on request or ex officio), 旧氏の記載・削除
 * (Japanese residents) and 通称の記載・削除 (foreign residents). Each first calls up the person (edit lock).
 */
import { useState, type FormEvent } from 'react';
import type { Draft } from './draft.js';
import { hasErrors, type FormProps } from './ExistingForms.js';
import {
  DateField,
  SelectField,
  TextField,
  checkDigits,
  digitsOf,
  optional,
  requireDate,
  requireText,
  shownDate,
  type Errors,
} from './fields.js';
import { TargetPicker, useTarget, type Target } from './target.js';

/** The dates every one of these changes asks for; the notification date is blank for an ex-officio change. */
function useDates(prefix: string) {
  const [effectiveDate, setEffectiveDate] = useState('');
  const [notifiedOn, setNotifiedOn] = useState('');
  return {
    check(errs: Errors) {
      requireDate(errs, `${prefix}-effectiveDate`, effectiveDate, '異動日');
      if (notifiedOn.trim()) requireDate(errs, `${prefix}-notifiedOn`, notifiedOn, '届出日');
    },
    body: () => ({ effectiveDate: effectiveDate.trim(), notifiedOn: optional(notifiedOn) }),
    summary: (): Array<[string, string]> => [
      ['異動日', shownDate(effectiveDate)],
      ['届出日', notifiedOn.trim() ? shownDate(notifiedOn) : '（職権）'],
    ],
    fields: (errors: Errors) => (
      <>
        <DateField
          id={`${prefix}-effectiveDate`}
          label="異動日"
          value={effectiveDate}
          onChange={setEffectiveDate}
          errors={errors}
          required
        />
        <DateField
          id={`${prefix}-notifiedOn`}
          label="届出日（職権の場合は空欄）"
          value={notifiedOn}
          onChange={setNotifiedOn}
          errors={errors}
        />
      </>
    ),
  };
}

function who(target: Target): [string, string] {
  return ['対象者', `${target.person.name}（${target.person.personNo}）`];
}

export function MyNumberChangeForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'person');
  const [myNumber, setMyNumber] = useState('');
  const [basis, setBasis] = useState<'request' | 'exOfficio'>('request');
  const [errors, setErrors] = useState<Errors>({});
  const dates = useDates('mn');
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    requireText(errs, 'mn-myNumber', myNumber, '新しい個人番号');
    checkDigits(errs, 'mn-myNumber', myNumber, '新しい個人番号', 12);
    dates.check(errs);
    if (hasErrors(errs, setErrors)) return;
    const draft: Draft = {
      path: 'my-number-change',
      title: basis === 'request' ? '個人番号の変更（請求）' : '個人番号の変更（職権）',
      body: {
        personNo: target.person.personNo,
        myNumber: digitsOf(myNumber),
        basis,
        ...dates.body(),
      },
      // The number itself is not repeated on the confirmation screen.
      summary: [who(target), ['新しい個人番号', '入力のとおり（12桁）'], ...dates.summary()],
    };
    onReady(draft);
  };

  return (
    <>
      <TargetPicker id="mn" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="個人番号の変更">
          <div className="change-grid">
            <SelectField
              id="mn-basis"
              label="変更の事由"
              value={basis}
              onChange={(v) => setBasis(v as 'request' | 'exOfficio')}
              options={[
                ['request', '本人の請求（漏えい等のおそれ）'],
                ['exOfficio', '職権'],
              ]}
              errors={errors}
            />
            <TextField
              id="mn-myNumber"
              label="新しい個人番号"
              value={myNumber}
              onChange={setMyNumber}
              errors={errors}
              required
              inputMode="numeric"
              hint="機構から通知された12桁の番号"
            />
            {dates.fields(errors)}
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

export function FormerSurnameForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'person');
  const [action, setAction] = useState<'enter' | 'delete'>('enter');
  const [surname, setSurname] = useState('');
  const [reading, setReading] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const dates = useDates('fs');
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (action === 'enter') {
      requireText(errs, 'fs-surname', surname, '旧氏');
      requireText(errs, 'fs-reading', reading, '旧氏のふりがな');
    }
    dates.check(errs);
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'former-surname',
      title: action === 'enter' ? '旧氏の記載' : '旧氏の削除',
      body: {
        personNo: target.person.personNo,
        action,
        ...(action === 'enter' ? { surname: surname.trim(), reading: reading.trim() } : {}),
        ...dates.body(),
      },
      summary: [
        who(target),
        ...(action === 'enter'
          ? [['旧氏', `${surname.trim()}（${reading.trim()}）`] as [string, string]]
          : [['旧氏', '削除する'] as [string, string]]),
        ...dates.summary(),
      ],
    });
  };

  return (
    <>
      <TargetPicker id="fs" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="旧氏の記載・削除">
          <div className="change-grid">
            <SelectField
              id="fs-action"
              label="記載・削除"
              value={action}
              onChange={(v) => setAction(v as 'enter' | 'delete')}
              options={[
                ['enter', '旧氏を記載する（日本人住民の請求）'],
                ['delete', '旧氏を削除する'],
              ]}
              errors={errors}
            />
            {action === 'enter' && (
              <>
                <TextField
                  id="fs-surname"
                  label="旧氏"
                  value={surname}
                  onChange={setSurname}
                  errors={errors}
                  required
                />
                <TextField
                  id="fs-reading"
                  label="旧氏のふりがな"
                  value={reading}
                  onChange={setReading}
                  errors={errors}
                  required
                />
              </>
            )}
            {dates.fields(errors)}
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}

export function AliasForm({ session, onReady }: FormProps) {
  const t = useTarget(session, 'person');
  const [action, setAction] = useState<'enter' | 'delete'>('enter');
  const [name, setName] = useState('');
  const [reading, setReading] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const dates = useDates('alias');
  const target = t.target;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (action === 'enter') requireText(errs, 'alias-name', name, '通称');
    dates.check(errs);
    if (hasErrors(errs, setErrors)) return;
    onReady({
      path: 'alias',
      title: action === 'enter' ? '通称の記載' : '通称の削除',
      body: {
        personNo: target.person.personNo,
        action,
        ...(action === 'enter' ? { name: name.trim(), reading: optional(reading) } : {}),
        ...dates.body(),
      },
      summary: [
        who(target),
        ...(action === 'enter'
          ? [['通称', `${name.trim()}${reading.trim() ? `（${reading.trim()}）` : ''}`] as [string, string]]
          : [['通称', '削除する'] as [string, string]]),
        ...dates.summary(),
      ],
    });
  };

  return (
    <>
      <TargetPicker id="alias" state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label="通称の記載・削除">
          <div className="change-grid">
            <SelectField
              id="alias-action"
              label="記載・削除"
              value={action}
              onChange={(v) => setAction(v as 'enter' | 'delete')}
              options={[
                ['enter', '通称を記載する（外国人住民の申出）'],
                ['delete', '通称を削除する'],
              ]}
              errors={errors}
            />
            {action === 'enter' && (
              <>
                <TextField
                  id="alias-name"
                  label="通称"
                  value={name}
                  onChange={setName}
                  errors={errors}
                  required
                />
                <TextField
                  id="alias-reading"
                  label="通称のふりがな（任意）"
                  value={reading}
                  onChange={setReading}
                  errors={errors}
                />
              </>
            )}
            {dates.fields(errors)}
          </div>
          <button type="submit">確認へ進む</button>
        </form>
      )}
    </>
  );
}
