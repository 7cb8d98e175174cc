// The order form built from a real answer of GET /order-types (the API's
// recorded examples), for each of the 8 types: its fields, what it
// requires, and the body of POST /orders it produces, checked with the
// server's own validator of the OrderSubmission schema.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CONTACT_FIELDS, emptyLine, errorAt, fillContact, newDraft, otherErrors, formPaths,
  restoreDraft, storableDraft, submission, validateDraft,
  type FileEntry, type FormField, type OrderDraft, type OrderType,
} from '@/composables/orderForm'

const ROOT = path.resolve(__dirname, '../../../..')
const examples = JSON.parse(readFileSync(path.join(ROOT, 'addons/instrument_service_api/examples.json'), 'utf8'))
const orderTypes = examples['GET /order-types'] as { items: OrderType[]; order_files: { max_items: number } }
const PYTHON = path.join(ROOT, '.venv/bin/python')

const t = (key: string, vars?: Record<string, string | number>) => (vars ? `${key} ${JSON.stringify(vars)}` : key)

/** The server's validator (validation.problems) on each body: path → code */
function serverProblems(bodies: unknown[]): Array<Record<string, string>> {
  const script = [
    'import json, sys',
    'from trytond.modules.instrument_service_api import validation',
    'bodies = json.load(sys.stdin)',
    "print(json.dumps([{k: v[0] for k, v in validation.problems(b, name='OrderSubmission').items()} for b in bodies]))",
  ].join('\n')
  return JSON.parse(execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(bodies), cwd: ROOT }).toString())
}

function uploaded(id: number, kind: 'photo' | 'document' = 'photo'): FileEntry {
  return {
    key: `key-${id}`, name: `f${id}.jpg`, kind, path: `blob:${id}`, size: 1000, status: 'done', progress: 100,
    error: '', file: { id, name: `f${id}.jpg`, mimetype: 'image/jpeg', size: 1000, url: `/api/v1/files/${id}`, thumbnail_url: null },
  }
}

const APPOINTMENT = '2030-05-29T10:00:00+08:00'

/** A value a person would type in each kind of field */
function typed(field: FormField, index: number): unknown {
  switch (field.kind) {
    case 'int': return Math.min(field.maximum ?? 99, (field.minimum ?? 0) + 2)
    // The picker's timestamp of the wall-clock time it shows, in the phone's zone
    case 'datetime': return new Date(2030, 4, 29, 10, 0).getTime()
    case 'multiselection': return (field.choices ?? []).slice(0, 2).map((choice) => choice.value)
    case 'images':
    case 'files': return [uploaded(100 + index), uploaded(200 + index)]
    default: return `${field.name} ${index}`
  }
}

function filledDraft(type: OrderType, lines = 1): OrderDraft {
  const draft = newDraft(type)
  draft.contact = { ...draft.contact, name: '刘洋', company: '上海联科生物科技有限公司', phone: '13901760231', address: '上海市浦东新区蔡伦路88号' }
  draft.lines = Array.from({ length: lines }, (_, index) => {
    const line = emptyLine(type)
    for (const field of type.fields) line[field.name] = typed(field, index) as never
    return line
  })
  draft.files = [uploaded(300, 'document')]
  return draft
}

describe('the form of each order type', () => {
  it('covers the eight types of the API', () => {
    expect(orderTypes.items.map((type) => type.code)).toEqual(
      ['repair', 'maintenance', 'recycle', 'rental', 'training', 'validation', 'selection', 'installation'])
  })

  describe.each(orderTypes.items.map((type) => [type.code, type] as const))('%s', (_, type) => {
    it('has a field for each field of the type, empty as its kind says', () => {
      const line = emptyLine(type)
      expect(Object.keys(line)).toEqual(type.fields.map((field) => field.name))
      for (const field of type.fields) {
        const value = line[field.name]
        if (field.kind === 'str') expect(value).toBe('')
        if (field.kind === 'int') expect(value).toBe(field.minimum ?? null)
        if (field.kind === 'datetime') expect(value).toBeNull()
        if (['multiselection', 'images', 'files'].includes(field.kind)) expect(value).toEqual([])
      }
    })

    it('requires what the type and the contact require, nothing else', () => {
      const errors = validateDraft(type, newDraft(type), t)
      const expected = [
        ...CONTACT_FIELDS.filter((field) => field.required).map((field) => `contact.${field.name}`),
        ...type.fields.filter((field) => field.required && !(field.kind === 'int' && field.minimum !== undefined))
          .map((field) => `lines[0].${field.name}`),
      ]
      expect(Object.keys(errors).sort()).toEqual(expected.sort())
      expect(new Set(Object.values(errors))).toEqual(new Set(['form.required']))
    })

    it('checks whole numbers against their bounds', () => {
      const field = type.fields.find((f) => f.kind === 'int')
      if (!field) return
      const draft = filledDraft(type)
      draft.lines[0][field.name] = (field.maximum ?? 0) + 1
      expect(validateDraft(type, draft, t)[`lines[0].${field.name}`]).toContain('form.range')
      draft.lines[0][field.name] = field.maximum ?? 1
      expect(validateDraft(type, draft, t)).toEqual({})
    })

    it('produces the body of POST /orders: the type\'s fields, in their kinds', () => {
      const body = submission(type, filledDraft(type, 2)) as unknown as {
        type: string; contact: Record<string, string>; lines: Array<Record<string, unknown>>; files?: number[] }
      expect(body.type).toBe(type.code)
      expect(body.contact).toEqual({ name: '刘洋', company: '上海联科生物科技有限公司', phone: '13901760231', address: '上海市浦东新区蔡伦路88号' })
      expect(body.files).toEqual([300])
      expect(body.lines).toHaveLength(2)
      body.lines.forEach((line, index) => {
        expect(Object.keys(line)).toEqual(type.fields.map((field) => field.name))
        for (const field of type.fields) {
          const value = line[field.name]
          if (field.kind === 'int') expect(Number.isInteger(value)).toBe(true)
          if (field.kind === 'datetime') expect(value).toBe(APPOINTMENT)
          if (field.kind === 'multiselection') expect(value).toEqual((field.choices ?? []).slice(0, 2).map((c) => c.value))
          if (field.kind === 'images' || field.kind === 'files') expect(value).toEqual([100 + index, 200 + index])
          if (field.kind === 'str') expect(value).toBe(`${field.name} ${index}`)
        }
      })
    })

    it('leaves out the optional fields left empty', () => {
      const draft = filledDraft(type)
      for (const field of type.fields.filter((f) => !f.required)) {
        draft.lines[0][field.name] = emptyLine(type)[field.name]
      }
      draft.files = []
      const body = submission(type, draft) as unknown as { lines: Array<Record<string, unknown>>; files?: number[] }
      expect(Object.keys(body.lines[0]).sort()).toEqual(
        type.fields.filter((f) => f.required || (f.kind === 'int' && f.minimum !== undefined)).map((f) => f.name).sort())
      expect(body.files).toBeUndefined()
    })
  })

  it.skipIf(!existsSync(PYTHON))('gives bodies the server accepts (OrderSubmission), and one it refuses', () => {
    const bodies: unknown[] = orderTypes.items.map((type) => submission(type, filledDraft(type, 2)))
    // A bad one, to see the validator at work: a quantity that is not a number
    const bad = submission(orderTypes.items[0], filledDraft(orderTypes.items[0])) as unknown as { lines: Array<Record<string, unknown>> }
    bad.lines[0].quantity = 'two'
    bodies.push(bad)
    const problems = serverProblems(bodies)
    expect(problems.slice(0, 8)).toEqual(orderTypes.items.map(() => ({})))
    expect(problems[8]).toEqual({ 'lines[0].quantity': 'type' })
  })
})

describe('the draft', () => {
  const repair = orderTypes.items.find((type) => type.code === 'repair')!
  const training = orderTypes.items.find((type) => type.code === 'training')!

  it('keeps the uploaded files and the key, not the files still on the phone', () => {
    const draft = filledDraft(repair)
    draft.idempotencyKey = 'key-of-the-order'
    const pending: FileEntry = { ...uploaded(9), status: 'uploading', file: null }
    ;(draft.lines[0].files as FileEntry[]).push(pending)
    const restored = restoreDraft(repair, JSON.parse(JSON.stringify(storableDraft(draft))))
    expect((restored.lines[0].files as FileEntry[]).map((entry) => entry.file?.id)).toEqual([100, 200])
    expect((restored.lines[0].files as FileEntry[])[0].path).toBe('')
    expect(restored.idempotencyKey).toBe('key-of-the-order')
    expect(restored.contact.name).toBe('刘洋')
    expect(restored.lines[0].fault_description).toBe('fault_description 0')
  })

  it('fits a draft to the type as it is now', () => {
    const saved = storableDraft(filledDraft(repair)) as unknown as OrderDraft
    // Another type's draft is not taken
    expect(restoreDraft(training, saved).lines[0]).toEqual(emptyLine(training))
    // A field the type no longer has is dropped; a value of the wrong kind too
    ;(saved.lines[0] as Record<string, unknown>).gone = 'x'
    ;(saved.lines[0] as Record<string, unknown>).quantity = 'many'
    const restored = restoreDraft(repair, saved)
    expect(restored.lines[0]).not.toHaveProperty('gone')
    expect(restored.lines[0].quantity).toBe(1)
  })

  it('fills the contact\'s blanks from the remembered one, keeping what was typed', () => {
    const draft = newDraft(repair)
    draft.contact.name = '王工'
    const filled = fillContact(draft.contact, {
      name: '刘洋', company: '联科', department: null, position: null, phone: '13901760231', address: null, email: 'a@b.cn' })
    expect(filled).toMatchObject({ name: '王工', company: '联科', phone: '13901760231', email: 'a@b.cn', department: '' })
  })

  it('says a file still uploading or failed where it is', () => {
    const draft = filledDraft(repair)
    ;(draft.lines[0].files as FileEntry[])[0].status = 'uploading'
    draft.files[0].status = 'failed'
    const errors = validateDraft(repair, draft, t)
    expect(errors).toEqual({ 'lines[0].files': 'form.files_pending', files: 'form.files_failed' })
  })
})

describe('errors of the API beside their fields', () => {
  const repair = orderTypes.items.find((type) => type.code === 'repair')!

  it('finds the error of a field, or of what is under it', () => {
    const errors = { 'contact.phone': 'bad phone', 'lines[0].files[1]': 'not a photo', 'lines[1].quantity': 'too big' }
    expect(errorAt(errors, 'contact.phone')).toBe('bad phone')
    expect(errorAt(errors, 'lines[0].files')).toBe('not a photo')
    expect(errorAt(errors, 'lines[1].quantity')).toBe('too big')
    expect(errorAt(errors, 'lines[0].quantity')).toBe('')
  })

  it('lists the errors no field shows', () => {
    const draft = newDraft(repair)
    const errors = { 'contact.phone': 'bad phone', lines: 'too many lines', '': 'general' }
    expect(otherErrors(errors, formPaths(repair, draft))).toEqual(['too many lines', 'general'])
  })
})

describe('times picked on the phone', () => {
  it('are the Shanghai wall-clock time the picker shows, whatever the phone\'s zone', async () => {
    const { pickedTimeISO, shanghaiNowPicked } = await import('@/utils/format')
    expect(pickedTimeISO(new Date(2030, 4, 29, 10, 0).getTime())).toBe('2030-05-29T10:00:00+08:00')
    // 03:00 UTC is 11:00 in Shanghai: the picker starts at 11:00
    const picked = new Date(shanghaiNowPicked(Date.parse('2026-12-05T03:00:00Z')))
    expect([picked.getDate(), picked.getHours()]).toEqual([5, 11])
  })
})
