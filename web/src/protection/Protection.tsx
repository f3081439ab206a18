/**
 * 抑止・支援措置: the suppression screens (for staff with `suppression`) and the support-measure screens (for
 * the officer, `supportMeasure`). Each part is shown only to staff holding its permission.
 */
import { useState } from 'react';
import type { AreaProps } from '../areas.js';
import { Suppressions } from './Suppressions.js';
import { SupportMeasures } from './SupportMeasures.js';

type Tab = 'suppression' | 'supportMeasure';

export function Protection({ session }: AreaProps) {
  const may = (p: string) => session.permissions.includes(p);
  const tabs: Array<{ id: Tab; label: string }> = [
    ...(may('suppression') ? [{ id: 'suppression' as const, label: '抑止' }] : []),
    ...(may('supportMeasure') ? [{ id: 'supportMeasure' as const, label: '支援措置' }] : []),
  ];
  const [tab, setTab] = useState<Tab | undefined>(tabs[0]?.id);

  return (
    <section className="protection">
      <h1>抑止・支援措置</h1>
      {tabs.length > 1 && (
        <nav className="app-nav" aria-label="抑止・支援措置の業務">
          {tabs.map((t) => (
            <button
              key={t.id}
              type="button"
              aria-current={tab === t.id ? 'page' : undefined}
              onClick={() => setTab(t.id)}
            >
              {t.label}
            </button>
          ))}
        </nav>
      )}
      {tab === 'suppression' && <Suppressions session={session} />}
      {tab === 'supportMeasure' && <SupportMeasures />}
      {tab === undefined && <p>この業務の権限がありません。</p>}
    </section>
  );
}
