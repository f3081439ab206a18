/**
 * Checkpoints: at intervals and on demand, the head of each municipality's chain (upto_seq, chain_hash)
 * is signed with the Ed25519 audit key, which lives outside the database. Whoever can write the database
 * can rewrite the unsealed tail of a chain consistently, but cannot forge a checkpoint: everything up to
 * the last checkpoint is fixed.
 */
import { sign, type KeyObject, verify } from 'node:crypto';
import type { Clock } from '../shared/index.js';
import { canonicalJson } from './access-log.js';
import {
  insertCheckpoint,
  latestCheckpoint,
  listLoggedMunicipalities,
  lockChainHead,
  type CheckpointRow,
  type Executor,
  type Trx,
} from './access-log.repository.js';
import type { AuditKey } from './audit-key.js';

export interface Checkpoint {
  readonly lgCode: string;
  readonly checkpointId: number;
  readonly uptoSeq: number;
  readonly chainHash: string;
  readonly createdAt: Date;
  readonly keyId: string;
  /** base64 */
  readonly signature: string;
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(c: {
  lgCode: string;
  uptoSeq: number;
  chainHash: string;
  createdAt: Date;
}): Buffer {
  return Buffer.from(
    canonicalJson({
      lgCode: c.lgCode,
      uptoSeq: c.uptoSeq,
      chainHash: c.chainHash,
      createdAt: c.createdAt.toISOString(),
    }),
  );
}

export function signatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointPayload(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export function rowToCheckpoint(r: CheckpointRow): Checkpoint {
  return {
    lgCode: r.lg_code,
    checkpointId: Number(r.checkpoint_id),
    uptoSeq: Number(r.upto_seq),
    chainHash: r.chain_hash,
    createdAt: new Date(r.created_at),
    keyId: r.key_id,
    signature: r.signature,
  };
}

/**
 * Seals the municipality's chain as it stands; undefined when nothing was appended since the last
 * checkpoint (or ever). Inside a transaction, it runs in it; otherwise it opens one. The chain head is
 * locked meanwhile, so the sealed hash is the head's and no append slips in between.
 */
export async function sealCheckpoint(
  db: Executor,
  lgCode: string,
  key: AuditKey,
  clock: Clock,
): Promise<Checkpoint | undefined> {
  const work = async (trx: Trx): Promise<Checkpoint | undefined> => {
    const head = await lockChainHead(trx, lgCode);
    if (head.last_seq === 0) return undefined;
    const latest = await latestCheckpoint(trx, lgCode);
    if (latest && Number(latest.upto_seq) >= head.last_seq) return undefined;
    const body = { lgCode, uptoSeq: head.last_seq, chainHash: head.last_hash, createdAt: clock.now() };
    const signature = sign(null, checkpointPayload(body), key.privateKey).toString('base64');
    const row = await insertCheckpoint(trx, {
      lg_code: lgCode,
      upto_seq: body.uptoSeq,
      chain_hash: body.chainHash,
      created_at: body.createdAt,
      key_id: key.keyId,
      signature,
    });
    return rowToCheckpoint(row);
  };
  return db.isTransaction ? work(db as Trx) : db.transaction().execute(work);
}

/** Seals every municipality that has entries since its last checkpoint. */
export async function sealAll(db: Executor, key: AuditKey, clock: Clock): Promise<Checkpoint[]> {
  const sealed: Checkpoint[] = [];
  for (const lgCode of await listLoggedMunicipalities(db)) {
    const c = await sealCheckpoint(db, lgCode, key, clock);
    if (c) sealed.push(c);
  }
  return sealed;
}

/**
 * Seals every `minutes` (config.audit.checkpointMinutes) until the returned function is called; that
 * function waits for a seal in progress. Runs never overlap; failures go to `onError` (which must log
 * without personal data — there is none here) and the next run tries again. The timer does not keep
 * the process alive.
 */
export function startCheckpointTimer(options: {
  db: Executor;
  key: AuditKey;
  clock: Clock;
  minutes: number;
  onSealed?: (checkpoints: readonly Checkpoint[]) => void;
  onError?: (error: unknown) => void;
}): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = sealAll(options.db, options.key, options.clock)
      .then((c) => {
        if (c.length > 0) options.onSealed?.(c);
      })
      .catch((e: unknown) => options.onError?.(e))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.minutes * 60_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
