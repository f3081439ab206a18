/**
 * Table types for Kysely. Rows are the database's shape; each module maps them to domain types and never
 * lets them leave the module.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** A `date` column: always a `YYYY-MM-DD` string (see the type parsers in ./index.ts). */
type DateColumn = string;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface MunicipalityTable {
  lg_code: string;
  name: string;
  created_at: Timestamp;
}

export interface NumberCounterTable {
  lg_code: string;
  kind: string;
  last_value: number;
}

export interface HouseholdTable {
  lg_code: string;
  household_no: string;
  created_at: Timestamp;
}

export interface ChangeTable {
  change_id: Generated<number>;
  lg_code: string;
  change_type: string;
  change_kind: 'entry' | 'removal' | 'correction';
  reason: string;
  effective_date: DateColumn;
  processed_on: DateColumn;
  notified_on: DateColumn | null;
  staff_id: string;
  terminal_id: string;
  notes: string | null;
  cancels_change_id: number | null;
  payload: JSONColumnType<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface ResidentTable {
  lg_code: string;
  person_no: string;
  history_seq: number;
  kind: 'japanese' | 'foreign';
  status: string;
  household_no: string | null;
  household_order: number | null;
  relationship: string | null;
  removed_on: DateColumn | null;
  planned_move_out: DateColumn | null;
  kana_sort: string;
  record: JSONColumnType<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface ResidentHistoryTable {
  lg_code: string;
  person_no: string;
  history_seq: number;
  change_id: number;
  recorded_at: Timestamp;
  status: string;
  household_no: string | null;
  name_norm: string;
  kana_norm: string;
  other_names_norm: string;
  address_norm: string;
  birth_sort: DateColumn | null;
  sex: string;
  my_number: string | null;
  resident_code: string | null;
  residence_card_no: string | null;
  record: JSONColumnType<Record<string, unknown>>;
}

export interface OutboxTable {
  id: Generated<number>;
  lg_code: string;
  topic: string;
  aggregate_key: string;
  payload: JSONColumnType<Record<string, unknown>>;
  created_at: Timestamp;
  dispatched_at: Timestamp | null;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface EditLockTable {
  lg_code: string;
  person_no: string;
  staff_id: string;
  session_id: string | null;
  acquired_at: Timestamp;
  expires_at: Timestamp;
}

export interface SupportMeasureTable {
  lg_code: string;
  measure_id: Generated<number>;
  person_no: string;
  status: 'provisional' | 'active' | 'ended';
  starts_on: DateColumn;
  ends_on: DateColumn;
  created_at: Timestamp;
  created_by: string;
}

/** `jumin_append_only`: rows are only ever inserted (src/audit). */
export interface AccessLogTable {
  lg_code: string;
  seq: number;
  occurred_at: Timestamp;
  staff_id: string | null;
  terminal_id: string;
  function: string;
  purpose: string | null;
  target_persons: ColumnType<string[], string[] | undefined, never>;
  my_number_accessed: boolean;
  my_number_printed: boolean;
  outcome: 'success' | 'refused' | 'failed';
  criteria: JSONColumnType<Record<string, unknown>> | null;
  details: JSONColumnType<Record<string, unknown>> | null;
  prev_hash: string;
  hash: string;
}

export interface AuditChainHeadTable {
  lg_code: string;
  last_seq: number;
  last_hash: string;
}

export interface AuditCheckpointTable {
  lg_code: string;
  checkpoint_id: Generated<number>;
  upto_seq: number;
  chain_hash: string;
  created_at: Timestamp;
  key_id: string;
  signature: string;
}

export interface AuditAlertTable {
  lg_code: string;
  alert_id: Generated<number>;
  rule: string;
  staff_id: string | null;
  subject: string;
  dedupe_key: string;
  raised_at: Timestamp;
  entry_seq: number | null;
  details: JSONColumnType<Record<string, unknown>>;
  acknowledged_by: string | null;
  acknowledged_at: Timestamp | null;
  acknowledgement_note: string | null;
}

export interface Database {
  municipality: MunicipalityTable;
  number_counter: NumberCounterTable;
  household: HouseholdTable;
  change: ChangeTable;
  resident: ResidentTable;
  resident_history: ResidentHistoryTable;
  outbox: OutboxTable;
  access_log: AccessLogTable;
  audit_chain_head: AuditChainHeadTable;
  audit_checkpoint: AuditCheckpointTable;
  audit_alert: AuditAlertTable;
  edit_lock: EditLockTable;
  support_measure: SupportMeasureTable;
  staff: StaffTable;
  staff_permission: StaffPermissionTable;
  staff_session: StaffSessionTable;
}

export interface StaffTable {
  staff_id: string;
  lg_code: string;
  login_name: string;
  display_name: string;
  family_name: string;
  address: string | null;
  password_hash: string;
  totp_secret: string;
  totp_last_step: number | null;
  failed_attempts: Generated<number>;
  locked_at: Timestamp | null;
  disabled_at: Timestamp | null;
  created_at: Timestamp;
  created_by: string;
}

export interface StaffPermissionTable {
  lg_code: string;
  staff_id: string;
  permission: string;
  granted_by: string;
  granted_at: Timestamp;
}

export interface StaffSessionTable {
  session_id_hash: string;
  lg_code: string;
  staff_id: string;
  state: 'pending' | 'active' | 'ended';
  csrf_token: string;
  terminal_id: string;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  ended_at: Timestamp | null;
  end_reason: string | null;
}
