// Display of the API's values: times are ISO 8601 in Asia/Shanghai
// (+08:00) already, money a string with two decimals.

/** "2026-12-05T10:22:54+08:00" → "2026-12-05 10:22" (the time as the server
 * gives it, in Asia/Shanghai, whatever the phone's time zone) */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso)
  return match ? `${match[1]} ${match[2]}` : iso
}

/** 3108 → "3.0 KB" */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
