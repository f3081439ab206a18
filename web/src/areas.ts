/**
 * The areas of the staff UI, each shown only to staff holding one of its permissions. Each area lives in
 * its own folder and receives the same props.
 */
import type { SignedIn } from './api.js';

export interface AreaProps {
  session: SignedIn;
  /** Opens a person's inquiry (which asks for the purpose first). */
  onOpenPerson: (personNo: string) => void;
}

export type AreaId = 'search' | 'changes' | 'certificates' | 'protection' | 'audit' | 'admin';

export const AREAS: ReadonlyArray<{ id: AreaId; label: string; permissions: readonly string[] }> = [
  { id: 'search', label: '住民検索', permissions: ['inquiry'] },
  { id: 'changes', label: '異動入力', permissions: ['change'] },
  { id: 'certificates', label: '証明書発行', permissions: ['certificate'] },
  { id: 'protection', label: '抑止・支援措置', permissions: ['suppression', 'supportMeasure'] },
  { id: 'audit', label: '監査', permissions: ['logReview'] },
  { id: 'admin', label: '職員管理', permissions: ['staffAdmin'] },
];

export function areasOf(session: SignedIn) {
  return AREAS.filter((a) => a.permissions.some((p) => session.permissions.includes(p)));
}
