/*
 * The day a reputation value describes (ReputationSignal.day), one rule for every source (docs/reputation.md):
 *
 *   A daily value is dated by the day the provider files it under.
 *   - Providers that date their rows name it: Postmaster `date`, SendGrid Engagement Quality `date`, SparkPost
 *     Signals `dt`; that day is taken as given.
 *   - SNDS gives a measurement window instead (activity start and end, e.g. 9/28 9 PM to 9/29 9 PM) and files
 *     it under the day asked for with data.aspx?date=, which is the day the window closes: the day of the
 *     window's last moment (dayOfWindow).
 *   - A day the provider has no value for (no_data) is dated by the day asked for, so it lands on the same day
 *     a value would have.
 *   Current-state snapshots (SES account status and rates, Postmaster compliance, SNDS IP status,
 *   authentication records, block lists) describe no day: null, ordered by when they were observed.
 *
 * With one rule, latestSignals compares like with like: a fresh RED and an earlier run's no_data for the same
 * IP and day are the same day, and the later observation wins. Pure.
 */

/**
 * The UTC day of a measurement window's last moment: a window ending exactly at midnight belongs to the day
 * before (9/17 12:00 AM to 9/18 12:00 AM is 9/17), a window of no length to its start.
 */
export function dayOfWindow(startIso: string, endIso: string): string {
  const start = Date.parse(startIso);
  const end = Date.parse(endIso);
  const last = end > start ? end - 1 : start;
  return new Date(last).toISOString().slice(0, 10);
}
