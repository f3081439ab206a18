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

/** What differs between the 旧氏 and the 通称 form: both enter or delete one name with its reading. */
interface NameItem {
  /** Prefix of the fields' ids. */
  readonly id: string;
  /** The server's change path. */
  readonly path: string;
  /** The item, as a clerk calls it: 旧氏, 通称. */
  readonly noun: string;
  /** Who may ask for it, shown on the "enter" choice. */
  readonly enterBasis: string;
  /** The body field holding the name. */
  readonly nameField: 'surname' | 'name';
  readonly readingRequired: boolean;
}

function EnterOrDeleteNameForm({ session, onReady, item }: FormProps & { item: NameItem }) {
  const t = useTarget(session, 'person');
  const [action, setAction] = useState<'enter' | 'delete'>('enter');
  const [name, setName] = useState('');
  const [reading, setReading] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const dates = useDates(item.id);
  const target = t.target;
  const readingLabel = `${item.noun}のふりがな`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!target) return;
    const errs: Errors = {};
    if (action === 'enter') {
      requireText(errs, `${item.id}-name`, name, item.noun);
      if (item.readingRequired) requireText(errs, `${item.id}-reading`, reading, readingLabel);
    }
    dates.check(errs);
    if (hasErrors(errs, setErrors)) return;
    const shownReading = reading.trim() ? `（${reading.trim()}）` : '';
    onReady({
      path: item.path,
      title: `${item.noun}の${action === 'enter' ? '記載' : '削除'}`,
      body: {
        personNo: target.person.personNo,
        action,
        ...(action === 'enter'
          ? {
              [item.nameField]: name.trim(),
              reading: item.readingRequired ? reading.trim() : optional(reading),
            }
          : {}),
        ...dates.body(),
      },
      summary: [
        who(target),
        [item.noun, action === 'enter' ? `${name.trim()}${shownReading}` : '削除する'],
        ...dates.summary(),
      ],
    });
  };

  return (
    <>
      <TargetPicker id={item.id} state={t} />
      {target && !target.readOnly && (
        <form onSubmit={submit} noValidate aria-label={`${item.noun}の記載・削除`}>
          <div className="change-grid">
            <SelectField
              id={`${item.id}-action`}
              label="記載・削除"
              value={action}
              onChange={(v) => setAction(v as 'enter' | 'delete')}
              options={[
                ['enter', `${item.noun}を記載する（${item.enterBasis}）`],
                ['delete', `${item.noun}を削除する`],
              ]}
              errors={errors}
            />
            {action === 'enter' && (
              <>
                <TextField
                  id={`${item.id}-name`}
                  label={item.noun}
                  value={name}
                  onChange={setName}
                  errors={errors}
                  required
                />
                <TextField
                  id={`${item.id}-reading`}
                  label={item.readingRequired ? readingLabel : `${readingLabel}（任意）`}
                  value={reading}
                  onChange={setReading}
                  errors={errors}
                  required={item.readingRequired}
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

const FORMER_SURNAME: NameItem = {
  id: 'fs',
  path: 'former-surname',
  noun: '旧氏',
  enterBasis: '日本人住民の請求',
  nameField: 'surname',
  readingRequired: true,
};

const ALIAS: NameItem = {
  id: 'alias',
  path: 'alias',
  noun: '通称',
  enterBasis: '外国人住民の申出',
  nameField: 'name',
  readingRequired: false,
};

export function FormerSurnameForm(props: FormProps) {
  return <EnterOrDeleteNameForm {...props} item={FORMER_SURNAME} />;
}

export function AliasForm(props: FormProps) {
  return <EnterOrDeleteNameForm {...props} item={ALIAS} />;
}
