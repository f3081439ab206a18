/**
 * Lanes of the access-log chain. Every append of a municipality used to wait for the one chain head, held
 * from the append to the end of the commit (its WAL flush included): in one municipality, appends — and so
 * changes, inquiries and searches — went one at a time however many connections served them.
 *
 * A municipality's log is now several hash chains (lanes). An append takes a lane no other transaction
 * holds, or opens a new one up to a limit (audit/access-log.repository.ts). Lane k hands out the seqs
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
    COMMENT ON TABLE audit_chain_head IS 'Last entry of each lane of a municipality''s access-log chain; an append locks one lane FOR UPDATE (one no other transaction holds), a checkpoint locks them all, so no lane ever forks';
    COMMENT ON COLUMN audit_chain_head.lane IS 'Lane k of the municipality''s log: its entries have the seqs k*10^12 + 1, + 2, … without gaps';
    COMMENT ON COLUMN access_log.seq IS 'Position in its lane of the municipality''s chain: lane k holds k*10^12 + 1, + 2, … without gaps (lane 0: 1, 2, 3, …)';
    COMMENT ON COLUMN audit_checkpoint.upto_seq IS 'The last entry sealed in one lane (the lane is the seq''s: upto_seq div 10^12); a seal writes one row per lane';
    CREATE INDEX access_log_time ON access_log (lg_code, occurred_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Only a log that never opened a second lane goes back: the old head holds one chain.
  await sql`
    DROP INDEX access_log_time;
    ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_seq_in_lane;
    DELETE FROM audit_chain_head WHERE lane > 0;
    ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_pkey;
    ALTER TABLE audit_chain_head DROP COLUMN lane;
    ALTER TABLE audit_chain_head ADD PRIMARY KEY (lg_code);
  `.execute(db);
}
