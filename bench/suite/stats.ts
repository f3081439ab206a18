/** Latency statistics and the markdown summary table of the benchmark suite (bench/run.ts). */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Nearest-rank percentiles of the samples (milliseconds). */
export function latencyOf(samples: readonly number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
  const mean = s.length === 0 ? NaN : s.reduce((a, b) => a + b, 0) / s.length;
  return { count: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean, max: s[s.length - 1] ?? NaN };
}

/** Runs `work` once per item, one after another, and returns the latency of each call. */
export async function timeEach<T>(
  items: readonly T[],
  work: (item: T) => Promise<unknown>,
): Promise<number[]> {
  const times: number[] = [];
  for (const item of items) {
    const t = performance.now();
    await work(item);
    times.push(performance.now() - t);
  }
  return times;
}

export const ms = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : '–');

/** One line of the summary: a figure, its target, and whether it is met (undefined: no target or not run). */
export interface Figure {
  step: string;
  name: string;
  value: string;
  target?: string;
  met?: boolean;
  notes?: string;
}

export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    f.value,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : '**missed**',
    f.notes ?? '',
  ]);
  const head = ['figure', 'measured', 'target', '', 'notes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * The whole machine's busy CPU time so far (user, nice, system, irq, softirq from /proc/stat), in
 * milliseconds; undefined off Linux. Read before and after a step, it gives the CPU the step cost the
 * machine — the benchmark process and the database server together — which on a shared 2-core machine is
 * steadier than the wall-clock rate it limits.
 */
export function machineBusyMs(): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const [user, nice, system, , , irq, softirq] = text
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const ticks = [user, nice, system, irq, softirq].reduce<number>((a, b) => a + (b ?? 0), 0);
  // USER_HZ is 100 on every Linux the benchmark runs on.
  return ticks * 10;
}
