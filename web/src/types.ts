/** The shapes of the API responses the screens use (see /api/openapi.json). */

export type FlexDate =
  { kind: 'exact'; date: string } | { kind: 'approximate' | 'range' | 'asWritten' | 'unknown'; text: string };

export type Sex = 'male' | 'female';

export interface Suppression {
  process: string;
  level: string;
}

export interface SearchHit {
  personNo: string;
  householdNo: string;
  name: string;
  reading: string;
  birthDate: FlexDate;
  sex: Sex;
  address: string;
  relationship: string;
  kind: 'japanese' | 'foreign';
  status: string;
  statusLabel: string;
  removed: boolean;
  suppressions: Suppression[];
  plannedMoveOut: string | undefined;
}

export interface SearchResult {
  total: number;
  page: number;
  pageSize: number;
  hits: SearchHit[];
  /** The name or address alone matched too many persons to list. */
  tooMany?: true;
}

export type MaskableItem = 'myNumber' | 'residentCode' | 'honseki' | 'residenceStatus';

export interface RecordView {
  personNo: string;
  kind: 'japanese' | 'foreign';
  status: string;
  name?: { family: string; given: string };
  reading: { family: string; given: string; status: 'certified' | 'notCertified' };
  formerSurname?: { surname: string; reading: string };
  birthDate: FlexDate;
  sex: Sex;
  householdNo: string;
  relationship: string;
  honseki?:
    | { kind: 'registered'; address: string; familyRegisterHead: string }
    | { kind: 'none' }
    | { kind: 'unknown' };
  residentSince: string;
  address: { postalCode?: string; text: string; katagaki?: string };
  addressSetOn: string;
  notifiedOn: string;
  previousAddress?: { text: string; abroad: boolean };
  myNumber?: string;
  residentCode?: string;
  foreign?: {
    latinName: string;
    nationality: string;
    foreignResidentSince: string;
    status: { category: string; residenceStatus?: string; periodOfStay?: string; expiryDate?: string };
    alias?: { name: string };
  };
  plannedMoveOut?: { plannedDate: string; destination: { text: string } };
  removal?: { reason: string; effectiveDate: string };
  remarks?: string;
  masked: MaskableItem[];
}

export interface HistoryEntry {
  historySeq: number;
  changeId: number;
  changeType: string;
  reason: string;
  reasonLabel: string;
  effectiveDate: string;
  processedOn: string;
  notifiedOn?: string;
  notes?: string;
  cancelsChangeId?: number;
  cancelledByChangeId?: number;
  record: RecordView;
}

export interface Inquiry {
  personNo: string;
  removed: boolean;
  statusLabel: string;
  current: RecordView;
  suppressions: Suppression[];
  editLock?: { staffId: string; expiresAt: string; mine: boolean };
  history: HistoryEntry[];
}

export interface HouseholdMember {
  personNo: string;
  name: string;
  reading: string;
  relationship: string;
  order: number;
  status: string;
  removed: boolean;
}

export interface HouseholdView {
  householdNo: string;
  head?: HouseholdMember;
  address?: string;
  members: HouseholdMember[];
  formerMembers: HouseholdMember[];
}
