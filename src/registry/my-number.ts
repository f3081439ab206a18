/**
 * The 個人番号 at rest. It never reaches the database in clear: a snapshot's record (jsonb, in
 * `resident_history` and its copy in `resident`) is stored without it; `resident_history` keeps it as an
 * AES-256-GCM ciphertext bound to (municipality, table, column, 宛名番号:履歴番号) and as a keyed blind index
 * for search; change payloads keep no 個人番号; an outbox message to Juki-net carries it encrypted, bound to
 * the message's (change, person, 履歴番号). Reading a record puts it back from the ciphertext.
 */
import type { FieldBinding, MunicipalityKeys } from '../keys/index.js';
import { ResidentRecord } from './resident.js';

export function snapshotMyNumberBinding(personNo: string, historySeq: number): FieldBinding {
  return { table: 'resident_history', column: 'my_number_enc', row: `${personNo}:${historySeq}` };
}

export function outboxMyNumberBinding(changeId: number, personNo: string, historySeq: number): FieldBinding {
  return {
    table: 'outbox',
    column: 'payload.identity.myNumberEnc',
    row: `${changeId}:${personNo}:${historySeq}`,
  };
}

/** A stored row's record with its 個人番号 decrypted back in. */
export function recordOf(
  keys: MunicipalityKeys,
  row: {
    person_no: string;
    history_seq: number;
    record: Record<string, unknown>;
    my_number_enc: Uint8Array | null;
  },
): ResidentRecord {
  const { myNumber: _ignored, ...rest } = row.record;
  const myNumber = row.my_number_enc
    ? keys.decrypt(snapshotMyNumberBinding(row.person_no, row.history_seq), row.my_number_enc)
    : undefined;
  return ResidentRecord.parse(myNumber ? { ...rest, myNumber } : rest);
}

/** A record as stored in jsonb: without its 個人番号. */
export function storedRecord(record: ResidentRecord): Record<string, unknown> {
  const { myNumber: _ignored, ...rest } = record;
  return rest;
}

/** The columns that keep a snapshot's 個人番号: blind index and ciphertext (both null without one). */
export function myNumberColumns(
  keys: MunicipalityKeys,
  personNo: string,
  historySeq: number,
  myNumber: string | undefined,
): { myNumberIndex: Buffer | null; myNumberEnc: Buffer | null } {
  if (!myNumber) return { myNumberIndex: null, myNumberEnc: null };
  return {
    myNumberIndex: keys.blindIndex(myNumber),
    myNumberEnc: keys.encrypt(snapshotMyNumberBinding(personNo, historySeq), myNumber),
  };
}

/** A copy of a change request without any 個人番号 (the snapshots the change writes keep it encrypted). */
export function withoutMyNumbers(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMyNumbers);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'myNumber')
        .map(([k, v]) => [k, withoutMyNumbers(v)]),
    );
  }
  return value;
}

/**
 * The 個人番号 an outbox 本人確認情報 message carries, decrypted (for the Juki-net adapter). Undefined when
 * the message has none.
 */
export function identityMyNumberOf(
  keys: MunicipalityKeys,
  payload: Record<string, unknown>,
): string | undefined {
  const identity = payload['identity'] as { myNumberEnc?: unknown } | undefined;
  if (typeof identity?.myNumberEnc !== 'string') return undefined;
  return keys.decrypt(
    outboxMyNumberBinding(
      Number(payload['changeId']),
      String(payload['personNo']),
      Number(payload['historySeq']),
    ),
    Buffer.from(identity.myNumberEnc, 'base64'),
  );
}
