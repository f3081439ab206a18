/** A fieldset of permission checkboxes with Japanese labels. */
import { PERMISSIONS, PERMISSION_LABEL, type Permission } from './permissions.js';

interface Props {
  idPrefix: string;
  legend: string;
  value: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
}

export function PermissionBoxes({ idPrefix, legend, value, onChange }: Props) {
  const toggle = (p: Permission, on: boolean) => {
    const next = new Set(value);
    if (on) next.add(p);
    else next.delete(p);
    onChange(next);
  };
  return (
    <fieldset className="permissions">
      <legend>{legend}</legend>
      {PERMISSIONS.map((p) => (
        <div key={p} className="checkbox">
          <input
            id={`${idPrefix}-${p}`}
            type="checkbox"
            checked={value.has(p)}
            onChange={(e) => toggle(p, e.target.checked)}
          />
          <label htmlFor={`${idPrefix}-${p}`}>{PERMISSION_LABEL[p]}</label>
        </div>
      ))}
    </fieldset>
  );
}
