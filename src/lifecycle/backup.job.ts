/**
 * The daily backup while the system serves: a timer that runs `runBackup` in-process every day at the
 * configured time (Japan time), then schedules the next day. A failure is already in the access log and
 * raised as an audit alert by runBackup; the caller logs it without personal data.
 */
import type { DatabaseHandle } from '../db/index.js';
import { nextDailyRun } from './backup.js';
import { runBackup, type BackupContext, type BackupLocations, type BackupRun } from './backup.service.js';

export interface DailyBackupOptions {
  readonly handle: DatabaseHandle;
  readonly locations: BackupLocations;
  readonly ctx: BackupContext;
  /** `HH:MM`, Japan time (config.backup.dailyAt). */
  readonly dailyAt: string;
  readonly onDone?: (run: BackupRun) => void;
  readonly onError: (error: unknown) => void;
}

/** Starts the daily timer; the returned function stops it and waits for a backup under way. */
export function startDailyBackup(options: DailyBackupOptions): () => Promise<void> {
  const { ctx } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped) return;
    const now = ctx.clock.now();
    const wait = Math.max(0, nextDailyRun(now, options.dailyAt).getTime() - now.getTime());
    timer = setTimeout(fire, wait);
    timer.unref();
  };
  const fire = () => {
    running = runBackup(options.handle, options.locations, ctx)
      .then(
        (run) => options.onDone?.(run),
        (e: unknown) => options.onError(e),
      )
      .finally(() => {
        running = undefined;
        schedule();
      });
  };

  schedule();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
