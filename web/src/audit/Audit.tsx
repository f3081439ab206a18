/**
 * 監査: the auditor's screens — access-log search, alerts (with acknowledgement) and the result of the
 * latest log verification with a checkpoint action. Everything is kept in memory only.
 */
import { useState } from 'react';
import type { AreaProps } from '../areas.js';
import { AccessLog } from './AccessLog.js';
import { Alerts } from './Alerts.js';
import { useStaffNames } from './names.js';
import { Verification } from './Verification.js';
import './audit.css';

type Tab = 'log' | 'alerts' | 'verification';

const TABS: ReadonlyArray<{ id: Tab; label: string }> = [
  { id: 'log', label: 'アクセスログ' },
  { id: 'alerts', label: 'アラート' },
  { id: 'verification', label: 'ログ検証' },
];

export function Audit({ session, onOpenPerson }: AreaProps) {
  const [tab, setTab] = useState<Tab>('log');
  const nameOf = useStaffNames();
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">監査</h1>
      <nav className="sub-nav" aria-label="監査メニュー">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            className={tab === t.id ? undefined : 'secondary'}
            aria-current={tab === t.id ? 'page' : undefined}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      {tab === 'log' && (
        <AccessLog
          nameOf={nameOf}
          onOpenPerson={session.permissions.includes('inquiry') ? onOpenPerson : undefined}
        />
      )}
      {tab === 'alerts' && <Alerts nameOf={nameOf} />}
      {tab === 'verification' && <Verification />}
    </section>
  );
}
