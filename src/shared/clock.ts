/**
 * The only source of "now". Services take a Clock so tests can fix the day; nothing else is mocked.
 * `today()` is the calendar day in Japan (Asia/Tokyo), as a plain `YYYY-MM-DD` string.
 */
import type { PlainDate } from './plainDate.js';

export interface Clock {
  /** The current instant. */
  now(): Date;
  /** Today's calendar date in Japan, `YYYY-MM-DD`. */
  today(): PlainDate;
}

const JST_OFFSET_MS = 9 * 60 * 60 * 1000;

/** The calendar day in Japan (UTC+9, no daylight saving) of an instant. */
export function japanDateOf(instant: Date): PlainDate {
  return new Date(instant.getTime() + JST_OFFSET_MS).toISOString().slice(0, 10) as PlainDate;
}

export const systemClock: Clock = {
  now: () => new Date(),
  today: () => japanDateOf(new Date()),
};

/** A clock stopped at a given instant, movable by tests. */
export class FixedClock implements Clock {
  private instant: Date;

  constructor(isoInstant: string) {
    this.instant = new Date(isoInstant);
  }

  now(): Date {
    return new Date(this.instant.getTime());
  }

  today(): PlainDate {
    return japanDateOf(this.instant);
  }

  set(isoInstant: string): void {
    this.instant = new Date(isoInstant);
  }

  /** Moves to 10:00 JST on the given day. */
  setDay(day: string): void {
    this.instant = new Date(`${day}T10:00:00+09:00`);
  }
}
