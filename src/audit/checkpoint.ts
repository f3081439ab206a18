/**
 * Checkpoints: at intervals and on demand, the head of each lane of each municipality's chain (upto_seq,
 * chain_hash; the seq names the lane) is signed with the Ed25519 audit key, which lives outside the
 * database. Whoever can write the database can rewrite the unsealed tail of a lane consistently, but cannot
 * forge a checkpoint: everything up to the last checkpoint of each lane is fixed.
 */
import { sign, type KeyObject, verify } from 'node:crypto';
import type { Clock } from '../shared/index.js';
import { canonicalJson, laneRange } from './access-log.js';
import {
  insertCheckpoint,
  latestCheckpoint,
  listLoggedMunicipalities,
  lockChainHeads,
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
 * Seals the municipality's chain as it stands: one checkpoint for each lane with entries since its last
 * checkpoint (none when nothing is new). Inside a transaction, it runs in it; otherwise it opens one. Every
 * lane head is locked meanwhile, so each sealed hash is its head's and no append slips in between.
 */
export async function sealCheckpoint(
  db: Executor,
  lgCode: string,
  key: AuditKey,
  clock: Clock,
): Promise<Checkpoint[]> {
  const work = async (trx: Trx): Promise<Checkpoint[]> => {
    const sealed: Checkpoint[] = [];
    const createdAt = clock.now();
    for (const head of await lockChainHeads(trx, lgCode)) {
      if (head.last_seq === laneRange(head.lane).first) continue;
      const latest = await latestCheckpoint(trx, lgCode, head.lane);
      if (latest && Number(latest.upto_seq) >= head.last_seq) continue;
      const body = { lgCode, uptoSeq: head.last_seq, chainHash: head.last_hash, createdAt };
      const signature = sign(null, checkpointPayload(body), key.privateKey).toString('base64');
      const row = await insertCheckpoint(trx, {
        lg_code: lgCode,
        upto_seq: body.uptoSeq,
        chain_hash: body.chainHash,
        created_at: body.createdAt,
        key_id: key.keyId,
        signature,
      });
      sealed.push(rowToCheckpoint(row));
    }
    return sealed;
  };
  return db.isTransaction ? work(db as Trx) : db.transaction().execute(work);
}

/** What the access log keeps of a seal: the checkpoints it wrote, or that it wrote none. */
export function sealDetails(checkpoints: readonly Checkpoint[]): Record<string, unknown> {
  return checkpoints.length === 0
    ? { sealed: false }
    : { checkpoints: checkpoints.map((c) => ({ checkpointId: c.checkpointId, uptoSeq: c.uptoSeq })) };
}

/** Seals every municipality that has entries since its last checkpoint. */
export async function sealAll(db: Executor, key: AuditKey, clock: Clock): Promise<Checkpoint[]> {
  const sealed: Checkpoint[] = [];
  for (const lgCode of await listLoggedMunicipalities(db)) {
    sealed.push(...(await sealCheckpoint(db, lgCode, key, clock)));
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
