// The order form, built from the order type of GET /order-types: its fields,
// what each requires, the draft kept in storage, and the body of POST
// /orders. No rule of a type is written here: the type's fields say it.
import type { Schemas } from '@instrument/shared'
import { pickedTimeISO } from '@/utils/format'

export type OrderType = Schemas['OrderTypeList']['items'][number]
export type FormField = Schemas['FormField']
export type Contact = Schemas['Contact']
export type Submission = Schemas['OrderSubmission']
type Translate = (key: string, vars?: Record<string, string | number>) => string

export type FileStatus = 'waiting' | 'compressing' | 'uploading' | 'done' | 'failed'

/** A file of the form: chosen on the phone, then uploaded (POST /files) */
export interface FileEntry {
  /** The Idempotency-Key of its upload (the same on a retry), and its key in lists */
  key: string
  name: string
  kind: 'photo' | 'document'
  /** The local file (temp path, blob URL); '' once restored from a draft */
  path: string
  size: number
  status: FileStatus
  /** 0 to 100 */
  progress: number
  error: string
  /** The server's file once uploaded */
  file: Schemas['File'] | null
}

export type FieldValue = string | number | null | string[] | FileEntry[]
export type LineDraft = Record<string, FieldValue>

// The contact of every order (ContactSubmission of the API document):
// name, company and phone are required
export const CONTACT_FIELDS = [
  { name: 'name', required: true },
  { name: 'company', required: true },
  { name: 'department', required: false },
  { name: 'position', required: false },
  { name: 'phone', required: true },
  { name: 'address', required: false },
  { name: 'email', required: false },
] as const

export type ContactName = (typeof CONTACT_FIELDS)[number]['name']
export type ContactDraft = Record<ContactName, string>

export interface OrderDraft {
  type: string
  contact: ContactDraft
  lines: LineDraft[]
  /** The order's own attachments (order_files of /order-types) */
  files: FileEntry[]
  /** The Idempotency-Key of the submission, kept until an answer came */
  idempotencyKey: string | null
}

export function isFileField(field: FormField): boolean {
  return field.kind === 'images' || field.kind === 'files'
}

export function emptyContact(): ContactDraft {
  return { name: '', company: '', department: '', position: '', phone: '', address: '', email: '' }
}

/** The draft's contact with its blanks filled from a remembered contact */
export function fillContact(draft: ContactDraft, remembered: Contact | null | undefined): ContactDraft {
  const result = { ...draft }
  if (!remembered) return result
  for (const { name } of CONTACT_FIELDS) {
    if (!result[name] && remembered[name]) result[name] = remembered[name] as string
  }
  return result
}

function emptyValue(field: FormField): FieldValue {
  switch (field.kind) {
    case 'int':
      return field.minimum ?? null
    case 'datetime':
      return null
    case 'multiselection':
    case 'images':
    case 'files':
      return []
    default:
      return ''
  }
}

export function emptyLine(type: OrderType): LineDraft {
  const line: LineDraft = {}
  for (const field of type.fields) line[field.name] = emptyValue(field)
  return line
}

export function newDraft(type: OrderType): OrderDraft {
  return {
    type: type.code,
    contact: emptyContact(),
    lines: [emptyLine(type)],
    files: [],
    idempotencyKey: null,
  }
}

function sameKind(field: FormField, value: unknown): boolean {
  switch (field.kind) {
    case 'int':
      return value === null || typeof value === 'number'
    case 'datetime':
      return value === null || typeof value === 'number'
    case 'multiselection':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
    case 'images':
    case 'files':
      return Array.isArray(value) && value.every((v) => v && typeof v === 'object')
    default:
      return typeof value === 'string'
  }
}

/** Only the uploaded files outlive the page: a local file does not */
function keptFiles(entries: unknown): FileEntry[] {
  if (!Array.isArray(entries)) return []
  return entries
    .filter((entry: FileEntry) => entry && entry.status === 'done' && entry.file)
    .map((entry: FileEntry) => ({ ...entry, path: '', progress: 100, error: '' }))
}

/** A draft read from storage, fitted to the type's form as it is now (a
 * field the type no longer has is dropped, a new one is empty) */
export function restoreDraft(type: OrderType, saved: Partial<OrderDraft> | null): OrderDraft {
  const draft = newDraft(type)
  if (!saved || saved.type !== type.code) return draft
  for (const { name } of CONTACT_FIELDS) {
    const value = saved.contact?.[name]
    if (typeof value === 'string') draft.contact[name] = value
  }
  if (Array.isArray(saved.lines) && saved.lines.length) {
    draft.lines = saved.lines.map((savedLine) => {
      const line = emptyLine(type)
      for (const field of type.fields) {
        const value = savedLine?.[field.name]
        if (isFileField(field)) line[field.name] = keptFiles(value)
        else if (field.kind === 'int' && typeof value === 'string' && value.trim() !== ''
            && Number.isInteger(Number(value))) line[field.name] = Number(value)
        else if (value !== undefined && sameKind(field, value)) line[field.name] = value
      }
      return line
    })
  }
  draft.files = keptFiles(saved.files)
  draft.idempotencyKey = typeof saved.idempotencyKey === 'string' ? saved.idempotencyKey : null
  return draft
}

/** What goes to storage: the draft without the local files */
export function storableDraft(draft: OrderDraft): OrderDraft {
  return {
    ...draft,
    lines: draft.lines.map((line) => {
      const copy: LineDraft = {}
      for (const [name, value] of Object.entries(line)) {
        copy[name] = Array.isArray(value) && value.some((v) => typeof v === 'object')
          ? keptFiles(value)
          : value
      }
      return copy
    }),
    files: keptFiles(draft.files),
  }
}

function isEmpty(value: FieldValue | undefined): boolean {
  if (value === null || value === undefined) return true
  if (typeof value === 'string') return value.trim() === ''
  if (Array.isArray(value)) return value.length === 0
  return false
}

function fileProblem(entries: FileEntry[], t: Translate): string | null {
  if (entries.some((entry) => entry.status === 'failed')) return t('form.files_failed')
  if (entries.some((entry) => entry.status !== 'done')) return t('form.files_pending')
  return null
}

/** The problems of the draft the form itself can tell, by the path the API
 * would name them with (contact.phone, lines[0].quantity, files) */
export function validateDraft(
  type: OrderType,
  draft: OrderDraft,
  t: Translate,
  orderFiles?: { max_items?: number },
): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const { name, required } of CONTACT_FIELDS) {
    if (required && isEmpty(draft.contact[name])) errors[`contact.${name}`] = t('form.required')
  }
  draft.lines.forEach((line, index) => {
    for (const field of type.fields) {
      const path = `lines[${index}].${field.name}`
      const value = line[field.name]
      if (field.required && isEmpty(value)) {
        errors[path] = t('form.required')
        continue
      }
      if (isEmpty(value)) continue
      if (field.kind === 'int') {
        const number = Number(value)
        if (!Number.isInteger(number)) errors[path] = t('form.integer')
        else if ((field.minimum !== undefined && number < field.minimum)
            || (field.maximum !== undefined && number > field.maximum)) {
          errors[path] = t('form.range', { min: field.minimum ?? '', max: field.maximum ?? '' })
        }
      } else if (field.kind === 'str' && field.max_length !== undefined
          && String(value).length > field.max_length) {
        errors[path] = t('form.too_long', { max: field.max_length })
      } else if (isFileField(field)) {
        const entries = value as FileEntry[]
        const problem = fileProblem(entries, t)
        if (problem) errors[path] = problem
        else if (field.max_items !== undefined && entries.length > field.max_items) {
          errors[path] = t('form.too_many', { max: field.max_items })
        }
      }
    }
  })
  const problem = fileProblem(draft.files, t)
  if (problem) errors.files = problem
  else if (orderFiles?.max_items !== undefined && draft.files.length > orderFiles.max_items) {
    errors.files = t('form.too_many', { max: orderFiles.max_items })
  }
  return errors
}

export function fileIds(entries: FileEntry[]): number[] {
  return entries.filter((entry) => entry.file).map((entry) => entry.file!.id)
}

function lineValue(field: FormField, value: FieldValue | undefined): unknown {
  if (isEmpty(value)) return undefined
  switch (field.kind) {
    case 'int':
      return Number(value)
    case 'datetime':
      return pickedTimeISO(Number(value))
    case 'multiselection':
      return [...(value as string[])]
    case 'images':
    case 'files':
      return fileIds(value as FileEntry[])
    default:
      return String(value).trim()
  }
}

/** The body of POST /orders: the type's fields of each line (empty optional
 * ones left out), the contact, the order's files */
export function submission(type: OrderType, draft: OrderDraft): Submission {
  const contact: Record<string, string> = {}
  for (const { name } of CONTACT_FIELDS) {
    const value = draft.contact[name].trim()
    if (value) contact[name] = value
  }
  const lines = draft.lines.map((line) => {
    const body: Record<string, unknown> = {}
    for (const field of type.fields) {
      const value = lineValue(field, line[field.name])
      if (value !== undefined) body[field.name] = value
    }
    return body
  })
  const body: Record<string, unknown> = { type: type.code, contact, lines }
  const files = fileIds(draft.files)
  if (files.length) body.files = files
  return body as unknown as Submission
}

/** The error of a path, or of what is under it (lines[0].files[2] under
 * lines[0].files) */
export function errorAt(errors: Record<string, string>, path: string): string {
  if (errors[path]) return errors[path]
  for (const [key, message] of Object.entries(errors)) {
    if (key.startsWith(path + '[') || key.startsWith(path + '.')) return message
  }
  return ''
}

/** The paths a form shows next to its fields */
export function formPaths(type: OrderType, draft: OrderDraft): string[] {
  const paths: string[] = CONTACT_FIELDS.map(({ name }) => `contact.${name}`)
  draft.lines.forEach((_, index) => {
    for (const field of type.fields) paths.push(`lines[${index}].${field.name}`)
  })
  paths.push('files')
  return paths
}

/** The errors no field of the form shows (lines, type, a header...) */
export function otherErrors(errors: Record<string, string>, paths: string[]): string[] {
  return Object.entries(errors)
    .filter(([key]) => !paths.some((path) => key === path || key.startsWith(path + '[')
      || key.startsWith(path + '.')))
    .map(([, message]) => message)
}
