/**
 * Per-model elasticity keys (issue 16), referenced by the models area as `models.<name>.schedule`
 * and `models.<name>.predictive`:
 *
 * - `schedule`: time windows (days, start and end time of day, IANA time zone, minimum replicas),
 *   each rendered as one KEDA `cron` trigger (components/model-scaling.ts `cronTriggers`).
 * - `predictive`: a seasonal floor, last week's served demand over the next `lookaheadMinutes`,
 *   times `growthFactor`, as a KEDA `prometheus` trigger (`predictiveTrigger`).
 *
 * docs/scaling.md explains both; docs/configuration.md documents every key.
 */
import { z } from "zod";
import { int } from "./primitives";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** "HH:MM", 24-hour clock. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a 24-hour time "HH:MM", e.g. "08:00"' });

/** Whether the runtime's ICU knows the IANA zone (KEDA resolves it with Go's time.LoadLocation). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(tz);
  } catch {
    return false;
  }
}

export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number) as [number, number];
  return h * 60 + m;
}

export const scheduleWindowSchema = z
  .strictObject({
    /** Days the window applies to (`mon` ... `sun`), in the window's time zone. */
    days: z.array(z.enum(WEEKDAYS, { error: `expected one of ${WEEKDAYS.join(", ")}` })).min(1),
    /** Start time of day, "HH:MM". */
    start: timeOfDay,
    /** End time of day, "HH:MM", after start (split a window that crosses midnight in two). */
    end: timeOfDay,
    /** IANA time zone the days and times are in, e.g. "America/New_York". */
    timezone: z.string().refine(isTimeZone, { error: 'expected an IANA time zone such as "America/New_York" or "Europe/Berlin"' }),
    /** Replicas the model keeps during the window (KEDA cron `desiredReplicas`). */
    minReplicas: int(1, 1000),
  })
  .superRefine((w, ctx) => {
    if (/^([01]\d|2[0-3]):[0-5]\d$/.test(w.start) && /^([01]\d|2[0-3]):[0-5]\d$/.test(w.end) && minutesOfDay(w.end) <= minutesOfDay(w.start))
      ctx.addIssue({ code: "custom", path: ["end"], message: `must be after start (${w.start}), got ${w.end}; split a window that crosses midnight into two` });
    if (new Set(w.days).size !== w.days.length) ctx.addIssue({ code: "custom", path: ["days"], message: "lists a day twice" });
  });

/** Optional (omitted = no windows), so that code and tests building a ModelConfig by hand need not name it. */
export const scheduleSchema = z.array(scheduleWindowSchema).max(14).optional();

export const predictiveSchema = z
  .strictObject({
    /** Raise the floor ahead of demand from last week's demand at the same time of day. */
    enabled: z.boolean().default(false),
    /** Multiplier on last week's demand (expected week-on-week growth plus headroom). */
    growthFactor: z.number().min(1).max(5).default(1.2),
    /**
     * Minutes ahead the floor looks: last week's peak over [now, now + lookahead]. At least the
     * model's new-node cold start (policy `scaling-predictive-lookahead`); omit to use that
     * estimate rounded up to 5 minutes.
     */
    lookaheadMinutes: int(1, 240).optional(),
  })
  .optional();

/** A parsed window, read-only as PlatformConfig hands it out. */
export interface ScheduleWindow {
  readonly days: readonly Weekday[];
  readonly start: string;
  readonly end: string;
  readonly timezone: string;
  readonly minReplicas: number;
}
export type PredictiveConfig = NonNullable<z.output<typeof predictiveSchema>>;

/** The 5-field cron day-of-week list KEDA's parser reads (robfig/cron: 0 = Sunday). */
export function cronDays(days: readonly Weekday[]): string {
  const n = [...new Set(days.map((d) => (WEEKDAYS.indexOf(d) + 1) % 7))].sort((a, b) => a - b);
  return n.join(",");
}
