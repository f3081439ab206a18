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

export interface Database {
  municipality: MunicipalityTable;
  number_counter: NumberCounterTable;
  household: HouseholdTable;
  change: ChangeTable;
  resident: ResidentTable;
  resident_history: ResidentHistoryTable;
  outbox: OutboxTable;
}
