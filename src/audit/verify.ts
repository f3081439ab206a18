/**
 * `jumin audit verify`: recomputes every chain and checkpoint and names the first entry of each problem.
 * A municipality's log is several chains, its lanes (access-log.ts): each is verified as below on its own,
 * its positions running from its first seq, against its own head and checkpoints.
 *
 * How tampering shows in the data. Each entry's hash covers its previous hash, its content and its own
 * seq, so for every stored row we can ask two questions: does the content still give the stored hash,
 * and for which seq (its "original position")? and does its prev_hash point at the row before it?
 *
 * - edited: the content no longer gives the stored hash at any position, while the chain still runs
 *   through the row (the next row points at it). An entry rewritten *with* a recomputed hash shows
 *   instead as the next row pointing at a hash that exists nowhere, with no position missing.
 * - deleted: an original position that no row holds: a gap in seq, or — when later rows were renumbered
 *   to close the gap — intact rows whose hashes name positions one higher than where they sit; also a
 *   chain head or checkpoint beyond the last row (a cut tail).
 * - inserted: a row no other row points at, sitting between two rows that point at each other; two rows
 *   claiming the same predecessor (a forged entry with a valid hash, later rows renumbered); a row
 *   beyond the chain head.
 * - reordered: rows intact — each hash matches its content at some position — but in the wrong order
 *   (their original positions are not increasing), e.g. contents swapped between two seqs.
 * - checkpoint: a signature that does not verify (forged or altered checkpoint, unknown key), or a valid
 *   one whose sealed hash is no longer the hash of the row at upto_seq (the chain was rewritten or
 *   renumbered after sealing).
 *
 * A pure-sha256 chain can be rewritten consistently from any point by someone who recomputes every later
 * hash; only the signed checkpoints (key outside the database) bound that, so the unsealed tail is as
 * strong as the database's own protection. Verification streams the log and keeps about 200 bytes per
 * entry in memory.
 */
import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, chainHash, entryNo, laneRange, type ChainedContent } from './access-log.js';
import {
  entriesAfter,
  findChainHeads,
  listCheckpoints,
  listLanes,
  listLoggedMunicipalities,
  type ChainHeadRow,
  type Executor,
} from './access-log.repository.js';
import { rowToEntry } from './access-log.service.js';
import { keyIdOf } from './audit-key.js';
import { rowToCheckpoint, signatureValid } from './checkpoint.js';

export const TAMPER_KINDS = ['deleted', 'inserted', 'edited', 'reordered', 'checkpoint'] as const;
export type TamperKind = (typeof TAMPER_KINDS)[number];

export interface TamperProblem {
  readonly kind: TamperKind;
  /** The first affected entry (for a checkpoint: the seq it seals). */
  readonly seq: number;
  /** The last affected entry, when a range is affected. */
  readonly toSeq?: number;
  readonly checkpointId?: number;
  readonly message: string;
}

/** One lane of a municipality's chain. */
export interface LaneVerification {
  readonly lane: number;
  readonly entries: number;
  /** The seq of the lane's last entry (the lane's first position less one when it has none). */
  readonly lastSeq: number;
  readonly checkpoints: number;
  /** The highest seq of the lane sealed by a checkpoint that verified and still matches. */
  readonly sealedUpto: number | null;
}

export interface ChainVerification {
  readonly lgCode: string;
  readonly ok: boolean;
  /** Of every lane. */
  readonly entries: number;
  readonly checkpoints: number;
  readonly lanes: readonly LaneVerification[];
  /** Sorted by seq (so by lane). */
  readonly problems: readonly TamperProblem[];
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly municipalities: readonly ChainVerification[];
}

const BATCH = 5_000;
/** How far from its seq an intact entry is looked for when its hash does not match where it sits. */
const WINDOW = 16;
const MAX_PROBLEMS = 200;

interface Node {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  intact: boolean;
  /** The seq the stored hash was computed for; for a non-intact row, the position the links imply. */
  orig: number | null;
}

/**
 * Verifies one municipality's chain, every lane of it, or every municipality's. `publicKeys` verify the
 * checkpoints (several after a key rotation); with none, any checkpoint is reported as unverifiable.
 */
export async function verifyAccessLog(
  db: Executor,
  lgCode: string | undefined,
  publicKeys: KeyObject | readonly KeyObject[] | undefined,
): Promise<VerificationReport> {
  const keys = new Map<string, KeyObject>();
  for (const k of publicKeys === undefined ? [] : Array.isArray(publicKeys) ? publicKeys : [publicKeys]) {
    keys.set(keyIdOf(k as KeyObject), k as KeyObject);
  }
  const codes = lgCode === undefined ? await listLoggedMunicipalities(db) : [lgCode];
  const municipalities: ChainVerification[] = [];
  for (const code of codes) municipalities.push(await verifyChain(db, code, keys));
  return { ok: municipalities.every((m) => m.ok), municipalities };
}

function matches(content: ChainedContent, prevHash: string, hash: string, seq: number): boolean {
  return seq >= 1 && chainHash(prevHash, content, seq) === hash;
}

async function verifyChain(
  db: Executor,
  lgCode: string,
  keys: ReadonlyMap<string, KeyObject>,
): Promise<ChainVerification> {
  const heads = await findChainHeads(db, lgCode);
  const lanes: LaneVerification[] = [];
  const problems = new Problems();
  for (const lane of await listLanes(db, lgCode)) {
    lanes.push(
      await verifyLane(
        db,
        lgCode,
        lane,
        heads.find((h) => h.lane === lane),
        keys,
        problems,
      ),
    );
  }
  const list = problems.sorted();
  return {
    lgCode,
    ok: list.length === 0,
    entries: lanes.reduce((n, l) => n + l.entries, 0),
    checkpoints: lanes.reduce((n, l) => n + l.checkpoints, 0),
    lanes,
    problems: list,
  };
}

/** Finds the position a row's hash was computed for: where it sits, where its links say, or nearby. */
function locate(node: Node, content: ChainedContent, linkCandidates: readonly (number | undefined)[]): void {
  const tried = new Set<number>();
  const candidates = [node.seq, ...linkCandidates];
  for (let d = 1; d <= WINDOW; d++) candidates.push(node.seq - d, node.seq + d);
  for (const c of candidates) {
    if (c === undefined || tried.has(c)) continue;
    tried.add(c);
    if (matches(content, node.prevHash, node.hash, c)) {
      node.intact = true;
      node.orig = c;
      return;
    }
  }
  node.intact = false;
  node.orig = linkCandidates.find((c) => c !== undefined) ?? null;
}

/** Verifies one lane; its problems go to `problems`. */
async function verifyLane(
  db: Executor,
  lgCode: string,
  lane: number,
  head: ChainHeadRow | undefined,
  keys: ReadonlyMap<string, KeyObject>,
  problems: Problems,
): Promise<LaneVerification> {
  const start = laneRange(lane).first;
  const nodes: Node[] = [];
  const byHash = new Map<string, Node>();
  /** Content of rows whose hash did not match where they sit: looked at again once all links are known. */
  const unresolved = new Map<Node, ChainedContent>();

  for (let after = start; ;) {
    const rows = await entriesAfter(db, lgCode, after, BATCH);
    for (const row of rows) {
      const content = rowToEntry(row);
      const node: Node = {
        seq: content.seq,
        prevHash: row.prev_hash,
        hash: row.hash,
        intact: false,
        orig: null,
      };
      if (matches(content, node.prevHash, node.hash, node.seq)) {
        node.intact = true;
        node.orig = node.seq;
      } else {
        locate(node, content, [linkCandidate(node, byHash, start)]);
        if (!node.intact) unresolved.set(node, content);
      }
      nodes.push(node);
      if (!byHash.has(node.hash)) byHash.set(node.hash, node);
    }
    if (rows.length < BATCH) break;
    after = nodes.at(-1)!.seq;
  }

  // Second look, now that every row's hash is known: successors can place a row too.
  const successorOf = new Map<string, Node>();
  for (const n of nodes) if (!successorOf.has(n.prevHash)) successorOf.set(n.prevHash, n);
  for (let pass = 0; pass < 3 && unresolved.size > 0; pass++) {
    for (const [node, content] of unresolved) {
      const succ = successorOf.get(node.hash);
      locate(node, content, [
        linkCandidate(node, byHash, start),
        succ?.orig !== null && succ?.orig !== undefined ? succ.orig - 1 : undefined,
      ]);
      if (node.intact) unresolved.delete(node);
    }
  }

  const checkpoints = (await listCheckpoints(db, lgCode, lane)).map(rowToCheckpoint);
  const lastSeq = nodes.at(-1)?.seq ?? start;
  const referenced = new Set(nodes.map((n) => n.prevHash));
  const positionOf = (n: Node) => n.orig ?? n.seq;
  const atPosition = new Map<number, Node>();
  for (const n of nodes) if (!atPosition.has(positionOf(n))) atPosition.set(positionOf(n), n);
  const occupied = new Set(atPosition.keys());
  const bySeq = new Map(nodes.map((n) => [n.seq, n]));

  // deleted: original positions nobody holds, up to the furthest position anything knows of.
  // The head counts only when it lies beyond the last row (a cut tail): after renumbering it may name a
  // seq that was never an original position.
  let furthest = head && head.last_seq > lastSeq ? head.last_seq : start;
  for (const n of nodes) furthest = Math.max(furthest, positionOf(n));
  for (const c of checkpoints) furthest = Math.max(furthest, c.uptoSeq);
  for (let p = start + 1; p <= furthest; p++) {
    if (occupied.has(p)) continue;
    let q = p;
    while (q + 1 <= furthest && !occupied.has(q + 1)) q++;
    problems.add({
      kind: 'deleted',
      seq: p,
      ...(q > p ? { toSeq: q } : {}),
      message:
        q > p
          ? `記録 #${entryNo(p)}〜#${entryNo(q)} が削除されています。`
          : `記録 #${entryNo(p)} が削除されています。`,
    });
    p = q;
  }

  // edited or inserted: rows whose content does not give their hash anywhere.
  nodes.forEach((node, i) => {
    if (node.intact) return;
    const prev = nodes[i - 1];
    const next = nodes[i + 1];
    const bypassed = next !== undefined && next.prevHash === (prev?.hash ?? GENESIS_HASH);
    const intruder =
      !referenced.has(node.hash) && (bypassed || (head !== undefined && node.seq > head.last_seq));
    problems.add(
      intruder
        ? {
            kind: 'inserted',
            seq: node.seq,
            message: `記録 #${entryNo(node.seq)} は後から挿入されたものです。`,
          }
        : {
            kind: 'edited',
            seq: node.seq,
            message: `記録 #${entryNo(node.seq)} の内容が改ざんされています（ハッシュ不一致）。`,
          },
    );
  });

  // edited (rewritten with a recomputed hash): a link to a hash that exists nowhere, no position missing.
  for (const node of nodes) {
    if (node.prevHash === GENESIS_HASH || byHash.has(node.prevHash)) continue;
    const position = positionOf(node) - 1;
    if (!occupied.has(position)) continue; // a deletion, reported above
    const rewritten = atPosition.get(position) ?? bySeq.get(node.seq - 1);
    if (rewritten) {
      problems.add({
        kind: 'edited',
        seq: rewritten.seq,
        message: `記録 #${entryNo(rewritten.seq)} が書き換えられています（次の記録の前ハッシュと不一致）。`,
      });
    }
  }
  const last = nodes.at(-1);
  if (head && last && last.seq === head.last_seq && last.hash !== head.last_hash) {
    problems.add({
      kind: 'edited',
      seq: last.seq,
      message: `記録 #${entryNo(last.seq)} が書き換えられています（チェーンの末尾と不一致）。`,
    });
  }

  // inserted: two rows claiming the same predecessor; rows beyond the chain head.
  const sharing = new Map<string, Node[]>();
  for (const n of nodes) sharing.set(n.prevHash, [...(sharing.get(n.prevHash) ?? []), n]);
  for (const group of sharing.values()) {
    if (group.length < 2) continue;
    const intruders = group.filter((n) => !referenced.has(n.hash) && n.hash !== head?.last_hash);
    const first = intruders[0] ?? group[1]!;
    problems.add({
      kind: 'inserted',
      seq: first.seq,
      message: `記録 #${entryNo(first.seq)} は後から挿入されたものです（同じ前ハッシュを持つ記録が複数あります）。`,
    });
  }
  if (head) {
    const beyond = nodes.filter((n) => n.seq > head.last_seq);
    if (beyond.length > 0) {
      problems.add({
        kind: 'inserted',
        seq: beyond[0]!.seq,
        ...(beyond.length > 1 ? { toSeq: beyond.at(-1)!.seq } : {}),
        message: `記録 #${entryNo(beyond[0]!.seq)} 以降はチェーンの末尾（#${entryNo(head.last_seq)}）より後に追加されています。`,
      });
    }
  }

  // reordered: intact rows whose original positions are not increasing along seq.
  const intact = nodes.filter((n) => n.intact);
  const suffixMin: number[] = new Array<number>(intact.length);
  for (let i = intact.length - 1, min = Infinity; i >= 0; i--) {
    suffixMin[i] = min;
    min = Math.min(min, intact[i]!.orig!);
  }
  let prefixMax = -Infinity;
  let run: Node[] = [];
  const flushRun = () => {
    if (run.length === 0) return;
    const from = run[0]!.seq;
    const to = run.at(-1)!.seq;
    problems.add({
      kind: 'reordered',
      seq: from,
      ...(to > from ? { toSeq: to } : {}),
      message: `記録 #${entryNo(from)}〜#${entryNo(to)} の順序が入れ替えられています。`,
    });
    run = [];
  };
  intact.forEach((n, i) => {
    const out = n.orig! < prefixMax || n.orig! > suffixMin[i]!;
    prefixMax = Math.max(prefixMax, n.orig!);
    if (out) run.push(n);
    else flushRun();
  });
  flushRun();

  // checkpoints
  let sealedUpto: number | null = null;
  for (const c of checkpoints) {
    const base = { kind: 'checkpoint' as const, seq: c.uptoSeq, checkpointId: c.checkpointId };
    const key = keys.get(c.keyId);
    if (!key) {
      problems.add({
        ...base,
        message: `チェックポイント ${c.checkpointId}（#${entryNo(c.uptoSeq)} まで）の署名鍵が確認できません（鍵 ${c.keyId.slice(0, 16)}…）。`,
      });
      continue;
    }
    if (!signatureValid(c, key)) {
      problems.add({
        ...base,
        message: `チェックポイント ${c.checkpointId}（#${entryNo(c.uptoSeq)} まで）の署名が正しくありません（偽造または改変）。`,
      });
      continue;
    }
    const sealed = bySeq.get(c.uptoSeq);
    if (sealed?.hash === c.chainHash) {
      sealedUpto = Math.max(sealedUpto ?? start, c.uptoSeq);
      continue;
    }
    const movedTo = byHash.get(c.chainHash);
    problems.add({
      ...base,
      message: movedTo
        ? `チェックポイント ${c.checkpointId} が封印した記録 #${entryNo(c.uptoSeq)} は現在 #${entryNo(movedTo.seq)} にあります（番号の付け替え）。`
        : `チェックポイント ${c.checkpointId} が封印した #${entryNo(c.uptoSeq)} までのチェーンが封印後に書き換えられています（#${entryNo((sealedUpto ?? start) + 1)} 以降）。`,
    });
  }

  return { lane, entries: nodes.length, lastSeq, checkpoints: checkpoints.length, sealedUpto };
}

function linkCandidate(node: Node, byHash: ReadonlyMap<string, Node>, first: number): number | undefined {
  if (node.prevHash === GENESIS_HASH) return first + 1;
  const pred = byHash.get(node.prevHash);
  return pred?.orig !== null && pred?.orig !== undefined ? pred.orig + 1 : undefined;
}

/** Problems, once per kind and seq, capped so a wholesale rewrite still gives a readable report. */
class Problems {
  private readonly items = new Map<string, TamperProblem>();

  add(p: TamperProblem): void {
    const key = `${p.kind}|${p.seq}|${p.checkpointId ?? ''}`;
    if (!this.items.has(key) && this.items.size < MAX_PROBLEMS) this.items.set(key, p);
  }

  sorted(): TamperProblem[] {
    const rank = (k: TamperKind) => TAMPER_KINDS.indexOf(k);
    return [...this.items.values()].sort((a, b) => a.seq - b.seq || rank(a.kind) - rank(b.kind));
  }
}

/** A readable report for operators (the CLI prints it). */
export function formatReport(report: VerificationReport): string {
  const lines: string[] = [];
  if (report.municipalities.length === 0) lines.push('アクセスログはまだありません。');
  for (const m of report.municipalities) {
    lines.push(
      `団体 ${m.lgCode}: 記録 ${m.entries} 件（${m.lanes.length} 系列）、チェックポイント ${m.checkpoints} 件: ` +
        (m.ok ? '改ざんは検出されませんでした' : `${m.problems.length} 件の問題`),
    );
    for (const l of m.lanes) {
      const last = l.entries === 0 ? '記録なし' : `最終 #${entryNo(l.lastSeq)}`;
      const sealed = l.sealedUpto === null ? '未封印' : `封印済み #${entryNo(l.sealedUpto)} まで`;
      lines.push(`  系列 ${l.lane}: 記録 ${l.entries} 件（${last}、${sealed}）`);
    }
    for (const p of m.problems)
      lines.push(`  [${p.kind}] #${entryNo(p.seq)}${p.toSeq ? `〜#${entryNo(p.toSeq)}` : ''}: ${p.message}`);
  }
  lines.push(report.ok ? '結果: OK' : '結果: 改ざんの疑いがあります');
  return lines.join('\n');
}
