/**
 * Lanes of the access-log chain. Every append of a municipality used to wait for the one chain head, held
 * from the append to the end of the commit (its WAL flush included): in one municipality, appends — and so
 * changes, inquiries and searches — went one at a time however many connections served them.
 *
 * A municipality's log is now eight hash chains (lanes), opened together with its first entry (here, for
 * the municipalities that have one). An append takes the lowest lane no other transaction holds, or waits
 * for one when all are held (audit/access-log.service.ts). Lane k hands out the seqs
 * k·10^12 + 1, + 2, … without gaps, so a seq still names one entry of the municipality and its lane, and
 * lane 0 is the chain as it was: entries, hashes and checkpoints written before this migration are
 * unchanged and still verify. A checkpoint seals every lane (one row per lane, its upto_seq in the lane).
 * Frozen in time: never import app code.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE audit_chain_head ADD COLUMN lane integer NOT NULL DEFAULT 0 CHECK (lane >= 0);
    ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_pkey;
    ALTER TABLE audit_chain_head ADD PRIMARY KEY (lg_code, lane);
    ALTER TABLE audit_chain_head ADD CONSTRAINT audit_chain_head_seq_in_lane
      CHECK (last_seq >= lane * 1000000000000 AND last_seq < (lane + 1) * 1000000000000);
    COMMENT ON TABLE audit_chain_head IS 'Last entry of each lane of a municipality''s access-log chain; eight per municipality, opened with its first entry; an append locks one lane FOR UPDATE (the lowest no other transaction holds), a checkpoint locks them all, so no lane ever forks';
    COMMENT ON COLUMN audit_chain_head.lane IS 'Lane k of the municipality''s log: its entries have the seqs k*10^12 + 1, + 2, … without gaps';
    COMMENT ON COLUMN access_log.seq IS 'Position in its lane of the municipality''s chain: lane k holds k*10^12 + 1, + 2, … without gaps (lane 0: 1, 2, 3, …)';
    COMMENT ON COLUMN audit_checkpoint.upto_seq IS 'The last entry sealed in one lane (the lane is the seq''s: upto_seq div 10^12); a seal writes one row per lane';
    CREATE INDEX access_log_time ON access_log (lg_code, occurred_at);
    INSERT INTO audit_chain_head (lg_code, lane, last_seq, last_hash)
    SELECT h.lg_code, g.n, g.n * 1000000000000, repeat('0', 64)
      FROM audit_chain_head h, generate_series(1, 7) AS g(n);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Only a log whose entries all sit in lane 0 goes back: the old head holds one chain.
  await sql`
    DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM access_log WHERE seq > 1000000000000) THEN
        RAISE EXCEPTION 'the access log has entries in lanes other than 0: it cannot go back to one chain';
      END IF;
    END $$;
    DROP INDEX access_log_time;
    ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_seq_in_lane;
    DELETE FROM audit_chain_head WHERE lane > 0;
    ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_pkey;
    ALTER TABLE audit_chain_head DROP COLUMN lane;
    ALTER TABLE audit_chain_head ADD PRIMARY KEY (lg_code);
  `.execute(db);
}
