/** The names behind staff ids, for the auditor's screens: 「氏名（ID）」. */
import { useCallback, useEffect, useState } from 'react';
import { call } from '../api.js';

interface StaffName {
  staffId: string;
  displayName: string;
  loginName: string;
}

/** How an operator is shown: 「窓口 一郎（stf_…）」, the bare id if unknown, （なし） for none. */
export type NameOf = (staffId: string | null) => string;

export function useStaffNames(): NameOf {
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  useEffect(() => {
    // Without the list the screens still work, with ids alone.
    call<StaffName[]>('GET', '/api/staff-names').then(
      (list) => setNames(new Map(list.map((n) => [n.staffId, n.displayName]))),
      () => undefined,
    );
  }, []);
  return useCallback(
    (staffId: string | null) => {
      if (staffId === null) return '（なし）';
      const name = names.get(staffId);
      return name ? `${name}（${staffId}）` : staffId;
    },
    [names],
  );
}
