// The form of a step, built from an action of progress.actions as the API
// gives it (its fields: the workflow's evidence rules, which administrators
// edit): what each field is entered with, what the form can tell before
// sending, and the values that go into the outbox. Nothing here knows a
// particular step or action.
import type { OutboxError, OutboxItem, Schemas } from '@instrument/shared'
import type { Translate } from '@/locale'
import { parseISO, pickedISO, pickedInstant } from '@/utils/time'
import { formatTime } from '@instrument/shared'

export type Action = Schemas['Action']
export type Field = Schemas['EvidenceField']
export type CheckInValue = Schemas['CheckInSubmission']

/** A photo or document of a form as it shows: where its upload stands */
export interface FileEntry {
  /** The outbox upload id, or the server's file id once uploaded */
  key: string | number
  name: string
  kind: 'photo' | 'file'
  state: 'compressing' | 'pending' | 'sending' | 'sent' | 'refused'
  preview?: string
  error?: string
}

/** How a field is entered */
export type Widget = 'text' | 'datetime' | 'money' | 'stars' | 'check_in' | 'photos' | 'documents' | 'unknown'

/** A value of the form: text and money as typed, a picked time (the
 * picker's timestamp), stars, a check-in, and for photos and documents the
 * outbox upload ids (or server file ids, once known) in the order chosen */
export type FormValue = string | number | null | CheckInValue | Array<string | number>
export type FormValues = Record<string, FormValue>

export function widgetOf(field: Pick<Field, 'kind'>): Widget {
  switch (field.kind) {
    case 'text':
    case 'datetime':
    case 'money':
    case 'stars':
    case 'check_in':
      return field.kind
    case 'images':
      return 'photos'
    case 'files':
      return 'documents'
    default:
      return 'unknown'
  }
}

export function isFileField(field: Pick<Field, 'kind'>): boolean {
  return field.kind === 'images' || field.kind === 'files'
}

export function emptyValue(field: Field): FormValue {
  switch (widgetOf(field)) {
    case 'photos':
    case 'documents':
      return []
    case 'datetime':
    case 'stars':
    case 'check_in':
      return null
    default:
      return ''
  }
}

export function emptyValues(action: Action): FormValues {
  return Object.fromEntries(action.fields.map((field) => [field.name, emptyValue(field)]))
}

/** Values kept (a draft, a refused submission) fitted to the action's form
 * as it is now: a field it no longer has is dropped, a new one is empty */
export function restoreValues(action: Action, saved: Record<string, unknown> | null | undefined): FormValues {
  const values = emptyValues(action)
  if (!saved) return values
  for (const field of action.fields) {
    const value = saved[field.name]
    if (value === undefined || value === null) continue
    switch (widgetOf(field)) {
      case 'photos':
      case 'documents':
        if (Array.isArray(value)) values[field.name] = value.filter((v) => typeof v === 'string' || typeof v === 'number')
        break
      case 'datetime':
        // A draft keeps the picker's timestamp; a submission the ISO time
        if (typeof value === 'number') values[field.name] = value
        else if (typeof value === 'string' && parseISO(value) !== null) {
          values[field.name] = isoToPicked(value)
        }
        break
      case 'stars':
        if (typeof value === 'number') values[field.name] = value
        break
      case 'check_in':
        if (typeof value === 'object') values[field.name] = value as CheckInValue
        break
      default:
        if (typeof value === 'string' || typeof value === 'number') values[field.name] = String(value)
    }
  }
  return values
}

/** "2031-05-29T10:00:00+08:00" → the picker's timestamp showing 10:00 */
function isoToPicked(iso: string): number {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(iso)
  if (!match) return Date.parse(iso)
  const [, y, mo, d, h, mi] = match.map(Number)
  return new Date(y, mo - 1, d, h, mi).getTime()
}

function blank(value: FormValue | undefined): boolean {
  if (value === null || value === undefined) return true
  if (typeof value === 'string') return value.trim() === ''
  if (Array.isArray(value)) return value.length === 0
  return false
}

export const MONEY = /^\d{1,12}(\.\d{1,2})?$/

/** What is wrong with a value of the form, by field name: what the form can
 * tell from the field's rules (required, lengths, bounds, counts) and from
 * the uploads (`upload(id)`: the outbox item of an upload id) */
export function validate(
  action: Action,
  values: FormValues,
  t: Translate,
  upload: (id: string) => OutboxItem | undefined = () => undefined,
): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const field of action.fields) {
    const value = values[field.name]
    const widget = widgetOf(field)
    if (blank(value)) {
      if (field.required || (field.min_items ?? 0) > 0) errors[field.name] = t('form.required')
      continue
    }
    switch (widget) {
      case 'text':
        if (field.max_length !== undefined && String(value).trim().length > field.max_length) {
          errors[field.name] = t('form.too_long', { max: field.max_length })
        }
        break
      case 'money': {
        const text = String(value).trim()
        if (!MONEY.test(text)) errors[field.name] = t('form.money')
        else if (field.exclusive_minimum !== undefined && Number(text) <= field.exclusive_minimum) {
          errors[field.name] = t('form.money_min', { min: field.exclusive_minimum })
        } else if (field.minimum !== undefined && typeof field.minimum === 'number' && Number(text) < field.minimum) {
          errors[field.name] = t('form.money_min', { min: field.minimum })
        } else if (field.maximum !== undefined && Number(text) > field.maximum) {
          errors[field.name] = t('form.money_max', { max: field.maximum })
        }
        break
      }
      case 'datetime': {
        const minimum = typeof field.minimum === 'string' ? parseISO(field.minimum) : null
        if (minimum !== null && pickedInstant(Number(value)) < Math.floor(minimum / 60000) * 60000) {
          errors[field.name] = t('form.not_before', { time: formatTime(field.minimum as string) })
        }
        break
      }
      case 'stars': {
        const min = typeof field.minimum === 'number' ? field.minimum : 1
        const max = field.maximum ?? 5
        const stars = Number(value)
        if (!Number.isInteger(stars) || stars < min || stars > max) {
          errors[field.name] = t('form.stars', { min, max })
        }
        break
      }
      case 'photos':
      case 'documents': {
        const ids = value as Array<string | number>
        if (field.min_items !== undefined && ids.length < field.min_items) {
          errors[field.name] = t('form.too_few', { min: field.min_items })
        } else if (field.max_items !== undefined && ids.length > field.max_items) {
          errors[field.name] = t('form.too_many', { max: field.max_items })
        } else if (ids.some((id) => typeof id === 'string' && upload(id)?.state === 'refused')) {
          errors[field.name] = t('form.upload_refused')
        }
        break
      }
      case 'unknown':
        errors[field.name] = t('form.unsupported', { label: field.label })
        break
    }
  }
  return errors
}

/** The values of the step as they go into the outbox (and then to the
 * API): blank optional fields left out, texts trimmed, money with two
 * decimals, the picked time in ISO 8601 (+08:00), photos and documents as
 * upload ids (the outbox puts the server's file ids in their place) */
export function stepValues(action: Action, values: FormValues): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const field of action.fields) {
    const value = values[field.name]
    if (blank(value)) continue
    switch (widgetOf(field)) {
      case 'datetime':
        result[field.name] = pickedISO(Number(value))
        break
      case 'money':
        result[field.name] = Number(String(value).trim()).toFixed(2)
        break
      case 'stars':
        result[field.name] = Number(value)
        break
      case 'check_in': {
        const checkIn = { ...(value as CheckInValue) }
        if (!checkIn.address?.trim()) delete checkIn.address
        else checkIn.address = checkIn.address.trim()
        result[field.name] = checkIn
        break
      }
      case 'photos':
      case 'documents':
        result[field.name] = [...(value as Array<string | number>)]
        break
      default:
        result[field.name] = String(value).trim()
    }
  }
  return result
}

/** The refusal of a submission by field (`photos[1]` and `check_in.latitude`
 * under their field), and the rest for above the button */
export function refusalErrors(action: Action, error: OutboxError | undefined): { fields: Record<string, string>; other: string[] } {
  const fields: Record<string, string> = {}
  const other: string[] = []
  if (!error) return { fields, other }
  const names = new Set<string>(action.fields.map((field) => field.name))
  for (const [path, problem] of Object.entries(error.fields ?? {})) {
    const name = path.split(/[.[]/)[0]
    if (names.has(name)) fields[name] = fields[name] ? `${fields[name]}；${problem.message}` : problem.message
    else other.push(problem.message)
  }
  if (!Object.keys(fields).length && !other.length) other.push(error.message)
  return { fields, other }
}
