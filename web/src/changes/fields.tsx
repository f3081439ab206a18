/**
 * Form fields of the change screens: each with its <label>, an optional hint, and the inline error tied to
 * it by aria-describedby. Date fields show back how the typed date is read.
 */
import type { ReactNode } from 'react';
import { formatDate } from '../format.js';
import { interpretDate } from './dates.js';

export type Errors = Record<string, string>;

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors: Errors;
  hint?: ReactNode;
  required?: boolean;
  list?: string;
  inputMode?: 'numeric' | 'text';
  disabled?: boolean;
}

function describedBy(id: string, hint: boolean, error: boolean): string | undefined {
  const ids = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ');
  return ids || undefined;
}

export function TextField({
  id,
  label,
  value,
  onChange,
  errors,
  hint,
  required,
  list,
  inputMode,
  disabled,
}: FieldProps) {
  const error = errors[id];
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && <span className="required">（必須）</span>}
      </label>
      <input
        id={id}
        name={id}
        autoComplete="off"
        value={value}
        list={list}
        inputMode={inputMode}
        disabled={disabled}
        aria-required={required || undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint !== undefined, error !== undefined)}
        onChange={(e) => onChange(e.target.value)}
      />
      {hint !== undefined && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

/** A date typed in the era or Gregorian calendar; shows back the day it is read as. */
export function DateField(props: Omit<FieldProps, 'hint'> & { uncertain?: boolean }) {
  const date = interpretDate(props.value);
  const hint = props.value.trim()
    ? date
      ? `→ ${formatDate(date)}`
      : props.uncertain
        ? '→ 記載のとおり（不詳・上旬などの不確定な日付として登録）'
        : '→ 日付として読めません（例: R6.4.1、令和6年4月1日、2024-04-01）'
    : props.uncertain
      ? '例: 令和6年4月1日、R6.4.1、2024-04-01、令和3年5月上旬、不詳'
      : '例: 令和6年4月1日、R6.4.1、2024-04-01';
  return <TextField {...props} hint={hint} />;
}

interface SelectProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: ReadonlyArray<readonly [string, string]>;
  errors: Errors;
  required?: boolean;
}

export function SelectField({ id, label, value, onChange, options, errors, required }: SelectProps) {
  const error = errors[id];
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {required && <span className="required">（必須）</span>}
      </label>
      <select
        id={id}
        name={id}
        value={value}
        aria-required={required || undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      >
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
      {error && (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      )}
    </div>
  );
}

export const RELATIONSHIPS = [
  '世帯主',
  '妻',
  '夫',
  '子',
  '父',
  '母',
  '子の子',
  '妻の父',
  '妻の母',
  '同居人',
  '縁故者',
];

/** The suggestions for 続柄 inputs (one list per page). */
export function RelationshipList() {
  return (
    <datalist id="change-relationships">
      {RELATIONSHIPS.map((r) => (
        <option key={r} value={r} />
      ))}
    </datalist>
  );
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by the forms (the server checks again; these only catch what is plainly missing).

export function requireText(errors: Errors, id: string, value: string, label: string): void {
  if (!value.trim()) errors[id] = `${label}を入力してください。`;
}

export function requireDate(
  errors: Errors,
  id: string,
  value: string,
  label: string,
  uncertain = false,
): void {
  if (!value.trim()) errors[id] = `${label}を入力してください。`;
  else if (!uncertain && !interpretDate(value)) {
    errors[id] =
      `${label}の形式が正しくありません。「令和6年4月1日」「R6.4.1」「2024-04-01」のように入力してください。`;
  }
}

export function checkDigits(errors: Errors, id: string, value: string, label: string, digits: number): void {
  const v = value.normalize('NFKC').replace(/[\s-]/g, '');
  if (v && !new RegExp(`^\\d{${digits}}$`).test(v))
    errors[id] = `${label}は${digits}桁の数字で入力してください。`;
}

/** Digits only (full-width and separators removed), or undefined when empty. */
export function digitsOf(value: string): string | undefined {
  const v = value.normalize('NFKC').replace(/[\s-]/g, '');
  return v || undefined;
}

export function optional(value: string): string | undefined {
  return value.trim() || undefined;
}

/** The date as the clerk typed it, with how it is read, for the confirmation. */
export function shownDate(value: string): string {
  const date = interpretDate(value);
  return date ? `${formatDate(date)}（入力: ${value.trim()}）` : value.trim();
}

/** Moves the focus to the first field with a message, so that keyboard users land on what to fix. */
export function focusFirstError(errors: Errors): boolean {
  const first = Object.keys(errors)[0];
  if (first === undefined) return false;
  document.getElementById(first)?.focus();
  return true;
}
