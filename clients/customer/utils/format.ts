// What the app sends and shows beyond the shared formats (formatTime,
// formatSize of @instrument/shared). Times are Asia/Shanghai (UTC+8, no
// daylight saving) whatever the phone's time zone: a time picked on the
// phone (wd-datetime-picker gives a timestamp of the phone's own clock) is
// taken as the Shanghai wall-clock time it shows.
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000

function pad(value: number): string {
  return String(value).padStart(2, '0')
}

/** The wall-clock time a picker shows (a timestamp of the phone's clock) as
 * ISO 8601 in Shanghai: 2025-05-29T10:00:00+08:00 */
export function pickedTimeISO(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
    + `T${pad(d.getHours())}:${pad(d.getMinutes())}:00+08:00`
}

/** Now in Shanghai, as a timestamp of the phone's clock (a picker's minimum) */
export function shanghaiNowPicked(now = Date.now()): number {
  return now + SHANGHAI_OFFSET_MS + new Date(now).getTimezoneOffset() * 60 * 1000
}

/** A money string of the API (two decimals) with its currency sign */
export function formatMoney(amount: string | null | undefined, currency?: string | null): string {
  if (amount === null || amount === undefined) return ''
  return `${!currency || currency === 'CNY' ? '¥' : currency + ' '}${amount}`
}
