// Times of the app. The API gives and takes ISO 8601 in Asia/Shanghai
// (+08:00, no daylight saving); the phone may be in any time zone. A picker
// (wd-datetime-picker) works on timestamps of the phone's own clock: the
// wall-clock time it shows is taken as Shanghai's.
const SHANGHAI_MS = 8 * 3600 * 1000

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

/** The Shanghai wall clock of an instant, as the fields of a UTC date */
function shanghaiClock(ms: number): Date {
  return new Date(ms + SHANGHAI_MS)
}

/** An instant as ISO 8601 in Shanghai: 2026-12-05T10:22:54+08:00 */
export function shanghaiISO(ms: number): string {
  const d = shanghaiClock(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
    + `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`
}

/** The day (YYYY-MM-DD) of an instant in Shanghai */
export function shanghaiDay(ms: number): string {
  return shanghaiISO(ms).slice(0, 10)
}

/** The wall-clock time a picker shows (a timestamp of the phone's clock)
 * as ISO 8601 in Shanghai, to the minute */
export function pickedISO(picked: number): string {
  const d = new Date(picked)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
    + `T${pad(d.getHours())}:${pad(d.getMinutes())}:00+08:00`
}

/** The instant of a picker's timestamp (its wall clock read in Shanghai) */
export function pickedInstant(picked: number): number {
  return Date.parse(pickedISO(picked))
}

/** The picker timestamp that shows the Shanghai wall clock of an instant
 * (a picker's minimum, or its value) */
export function instantToPicked(ms: number): number {
  const d = shanghaiClock(ms)
  return new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(),
    d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()).getTime()
}

/** Milliseconds of an ISO time of the API, or null */
export function parseISO(iso: string | null | undefined): number | null {
  if (!iso) return null
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? null : ms
}

/** "2026-12-05" → the seven days of its week, Monday first */
export function weekDays(day: string): string[] {
  const [year, month, date] = day.split('-').map(Number)
  const base = Date.UTC(year, month - 1, date)
  const weekday = (new Date(base).getUTCDay() + 6) % 7
  return Array.from({ length: 7 }, (_, i) =>
    new Date(base + (i - weekday) * 86400000).toISOString().slice(0, 10))
}

/** "2026-12-05" moved by n days */
export function addDays(day: string, n: number): string {
  const [year, month, date] = day.split('-').map(Number)
  return new Date(Date.UTC(year, month - 1, date) + n * 86400000).toISOString().slice(0, 10)
}

/** 0 (Monday) to 6 (Sunday) of a day */
export function weekdayOf(day: string): number {
  const [year, month, date] = day.split('-').map(Number)
  return (new Date(Date.UTC(year, month - 1, date)).getUTCDay() + 6) % 7
}
