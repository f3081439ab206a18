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
  /** Persons the change counts in the statistics' flows, by kind (migration 0019). */
  flow_japanese: number;
  flow_foreign: number;
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
  /** Migration 0017: these five and residence_card_no are null where the same as the previous snapshot's. */
  name_norm: string | null;
  kana_norm: string | null;
  other_names_norm: string | null;
  address_norm: string | null;
  birth_sort: DateColumn | null;
  sex: string;
  /** Migration 0008: HMAC blind index and AES-256-GCM ciphertext of the 個人番号 (src/keys). */
  my_number_index: Buffer | null;
  my_number_enc: Buffer | null;
  resident_code: string | null;
  residence_card_no: string | null;
  /** Migration 0018: a first snapshot, or its 個人番号 or 住民票コード changed; only these are in their indexes. */
  numbers_new: Generated<boolean>;
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
  status: 'provisional' | 'active' | 'rejected' | 'ended' | 'transferred';
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
  /** Lane k of the municipality's chain: seqs k·10^12 + 1, + 2, … */
  lane: Generated<number>;
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
  terminal: TerminalTable;
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

// ── protection (抑止・支援措置), migration 0006 ──────────────────────────────────────────────────────────

/** Insert-only. `reason` is AES-256-GCM ciphertext (src/protection/crypto.ts). */
export interface SuppressionTable {
  lg_code: string;
  suppression_id: number;
  person_no: string | null;
  household_no: string | null;
  process: 'change' | 'certificate' | 'inquiry';
  level: 'error' | 'alert';
  starts_on: DateColumn;
  ends_on: DateColumn | null;
  reason: Buffer;
  set_by: string;
  set_at: Timestamp;
}

/** Insert-only: a release ('release') or a temporary release lapsing at `until` ('temporary'). */
export interface SuppressionReleaseTable {
  lg_code: string;
  release_id: number;
  suppression_id: number;
  kind: 'release' | 'temporary';
  until: Timestamp | null;
  reason: Buffer;
  released_by: string;
  released_at: Timestamp;
}

/** Columns migration 0006 adds to support_measure (merged into SupportMeasureTable below). */
export interface SupportMeasureTable {
  applied_on: ColumnType<DateColumn | null, DateColumn | null | undefined, DateColumn | null>;
  decided_on: ColumnType<DateColumn | null, DateColumn | null | undefined, DateColumn | null>;
  closed_on: ColumnType<DateColumn | null, DateColumn | null | undefined, DateColumn | null>;
  transferred_to: ColumnType<string | null, string | null | undefined, string | null>;
  blocked_services: ColumnType<string[], string[] | undefined, string[]>;
}

export interface SupportMeasureProtectedTable {
  lg_code: string;
  measure_id: number;
  person_no: string;
}

/** Both columns are AES-256-GCM ciphertext bound to (lg_code, table, column, measure_id). */
export interface SupportMeasureDetailTable {
  lg_code: string;
  measure_id: number;
  perpetrator: Buffer;
  case_details: Buffer;
}

export interface SupportMeasureEventTable {
  lg_code: string;
  event_id: Generated<number>;
  measure_id: number;
  kind: 'applied' | 'decided' | 'rejected' | 'extended' | 'terminated' | 'transferred' | 'caseReleased';
  on_date: DateColumn;
  starts_on: DateColumn | null;
  ends_on: DateColumn | null;
  transferred_to: string | null;
  staff_id: string;
  terminal_id: string;
  recorded_at: Timestamp;
}

export interface SupportMeasureCaseReleaseTable {
  lg_code: string;
  release_id: number;
  measure_id: number;
  reason: Buffer;
  released_by: string;
  released_at: Timestamp;
  used_at: Timestamp | null;
  issuance_ref: string | null;
}

// Declaration merging: the protection tables join the Database interface above.
export interface Database {
  suppression: SuppressionTable;
  suppression_release: SuppressionReleaseTable;
  support_measure_protected: SupportMeasureProtectedTable;
  support_measure_detail: SupportMeasureDetailTable;
  support_measure_event: SupportMeasureEventTable;
  support_measure_case_release: SupportMeasureCaseReleaseTable;
}

// ── certificates (証明書), migration 0007 ─────────────────────────────────────────────────────────────

export interface CertificateCounterTable {
  lg_code: string;
  issued_on: DateColumn;
  last_serial: number;
}

/** `jumin_append_only`: an issuance is never changed; voiding appends an IssuanceDisposal. */
export interface IssuanceTable {
  lg_code: string;
  issuance_id: Generated<number>;
  issued_at: Timestamp;
  issued_on: DateColumn;
  serial: number;
  issue_number: string;
  place: string;
  terminal_id: string;
  printer_id: string;
  staff_id: string;
  certificate_type: string;
  requester_type: string;
  requester: JSONColumnType<Record<string, unknown>>;
  household_no: string;
  subject_persons: ColumnType<string[], string[], never>;
  items: ColumnType<string[], string[], never>;
  with_history: boolean;
  sheets: number;
  fee: number;
  official: boolean;
  my_number_printed: boolean;
}

/** `jumin_append_only`. */
export interface IssuanceDisposalTable {
  lg_code: string;
  disposal_id: Generated<number>;
  issuance_id: number;
  disposed_at: Timestamp;
  staff_id: string;
  terminal_id: string;
  reason: string;
}

// Declaration merging: the certificate tables join the Database interface above.
export interface Database {
  certificate_counter: CertificateCounterTable;
  issuance: IssuanceTable;
  issuance_disposal: IssuanceDisposalTable;
}

// ── keys (envelope encryption), migration 0008 ────────────────────────────────────────────────────────

/** A municipality's data key, only ever stored wrapped by the key provider's KEK (src/keys). */
export interface DataKeyTable {
  lg_code: string;
  purpose: 'field' | 'index';
  version: number;
  kek_id: string;
  wrapped: Buffer;
  created_at: Timestamp;
  rewrapped_at: Timestamp | null;
}

// Declaration merging: the keys table joins the Database interface above.
export interface Database {
  data_key: DataKeyTable;
}

// ── lifecycle (一時保管, 除票の保存, 消去), migrations 0009 and 0010 ───────────────────────────────────────

/** An item of the transient store: AES-256-GCM under its own key (src/lifecycle/transient.store.ts). */
export interface TransientItemTable {
  item_id: string;
  lg_code: string;
  purpose: string;
  ciphertext: Buffer;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** The item's key, wrapped by the key provider; deleted with the item. */
export interface TransientKeyTable {
  item_id: string;
  lg_code: string;
  kek_id: string;
  wrapped: Buffer;
}

export interface LifecycleRunTable {
  lg_code: string;
  job: 'archive' | 'purge';
  period: number;
  finished_at: Timestamp;
  staff_id: string;
  persons: number;
  access_log_seq: number | null;
}

// Declaration merging: the lifecycle tables join the Database interface above. The archive tables have the
// same rows as their live tables; the *_all views read both (search and certificates reach archived 除票).
export interface Database {
  transient_item: TransientItemTable;
  transient_key: TransientKeyTable;
  lifecycle_run: LifecycleRunTable;
  resident_archive: ResidentTable;
  resident_history_archive: ResidentHistoryTable;
  issuance_archive: IssuanceTable;
  issuance_disposal_archive: IssuanceDisposalTable;
  resident_all: ResidentTable;
  resident_history_all: ResidentHistoryTable;
  issuance_all: IssuanceTable;
  issuance_disposal_all: IssuanceDisposalTable;
}

// ── registered terminals (端末), migration 0011 ──────────────────────────────────────────────────────────

export interface TerminalTable {
  lg_code: string;
  terminal_id: string;
  name: string;
  /** SHA-256 (hex) of the token in the terminal cookie. */
  token_hash: string;
  registered_by: string;
  registered_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
}
