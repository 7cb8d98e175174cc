// The step form is built from progress.actions alone: every action of the
// eight workflows, as a real server offered them at every step
// (fixtures/workflow-actions.json, recorded by
// scripts/record_workflow_actions.py), must give a form whose checks are the
// action's own (required fields, counts, bounds), and whose values are what
// the action's schema of the API document (Evidence_<type>_<step>_<action>)
// takes.
import { describe, expect, it } from 'vitest'
import recorded from './fixtures/workflow-actions.json'
import {
  emptyValues, refusalErrors, restoreValues, stepValues, validate, widgetOf,
  type Action, type Field, type FormValues,
} from '@/composables/stepForm'
import { t } from '@/locale'
import { instantToPicked } from '@/utils/time'

type Schema = {
  properties: Record<string, { const?: string; type?: string; $ref?: string; minItems?: number; maxItems?: number; pattern?: string; format?: string }>
  required: string[]
  additionalProperties: boolean
}
type Record_ = { type: string; step: string; visit_mode: string | null; note: string; submitted_at: string; actions: Action[]; actions_en: Action[] }

const records = recorded.records as unknown as Record_[]
const evidence = recorded.evidence as unknown as Record<string, Schema>

/** Every engineer action offered, with where */
const offered = records.flatMap((record) => record.actions.map((action) => ({ record, action })))

/** A value each kind of field takes, as the engineer would enter it */
function filled(field: Field, uploadIds: string[]): FormValues[string] {
  switch (widgetOf(field)) {
    case 'text':
      return '  检查完成，一切正常  '
    case 'money':
      return '1280.5'
    case 'datetime':
      return instantToPicked(Date.parse('2031-05-29T10:00:00+08:00'))
    case 'stars':
      return typeof field.maximum === 'number' ? field.maximum : 5
    case 'check_in':
      return { time: '2031-05-29T10:05:00+08:00', latitude: 31.2, longitude: 121.6, accuracy: 15, coordinate_system: 'gcj02', address: '' }
    case 'photos':
    case 'documents':
      return uploadIds.slice(0, Math.max(field.min_items ?? 0, 1))
    default:
      return null
  }
}

/** What JSON Schema `type` a value of the step has */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value
}

describe('the step form of every action of every workflow', () => {
  it('covers every engineer action of the API document', () => {
    const seen = new Set(offered.map(({ record, action }) => `Evidence_${record.type}_${record.step}_${action.action}`))
    expect(Object.keys(evidence).length).toBe(56)
    expect([...seen].sort()).toEqual(Object.keys(evidence).sort())
    // The eight types, on site and remote, with revisions
    expect(new Set(records.map((record) => record.type)).size).toBe(8)
  })

  for (const { record, action } of offered) {
    const name = `Evidence_${record.type}_${record.step}_${action.action}`
    describe(`${record.type} · ${record.step} (${record.note}) · ${action.action}`, () => {
      const schema = evidence[name]

      it('has a widget for each field, the labels and the button of the server', () => {
        expect(action.actor).toBe('engineer')
        expect(action.button).toBeTruthy()
        for (const field of action.fields) {
          expect(widgetOf(field), field.name).not.toBe('unknown')
          expect(field.label).toBeTruthy()
          if (field.kind === 'images' || field.kind === 'files') expect(field.upload).toMatch(/^\/api\/v1\/engineer\/tasks\/\d+\/files$/)
        }
        expect(action.request.path).toMatch(/^\/api\/v1\/engineer\/tasks\/\d+\/steps$/)
      })

      it('refuses exactly what the action requires when empty', () => {
        const errors = validate(action, emptyValues(action), t)
        const required = action.fields.filter((field) => field.required || (field.min_items ?? 0) > 0).map((field) => field.name)
        expect(Object.keys(errors).sort()).toEqual(required.sort())
        // The document requires the same ones (besides the action itself)
        expect(schema.required.filter((key) => key !== 'action').sort()).toEqual(required.sort())
      })

      it('sends, once filled, what the action takes in the API document', () => {
        const values = emptyValues(action)
        for (const field of action.fields) values[field.name] = filled(field, ['upload-1', 'upload-2'])
        expect(validate(action, values, t)).toEqual({})
        const body = stepValues(action, values)
        for (const key of schema.required) if (key !== 'action') expect(body, key).toHaveProperty(key)
        for (const [key, value] of Object.entries(body)) {
          const property = schema.properties[key]
          expect(property, `${key} is not in ${name}`).toBeDefined()
          if (property.$ref) {
            expect(property.$ref).toBe('#/components/schemas/CheckInSubmission')
            expect(value).toMatchObject({ coordinate_system: 'gcj02', accuracy: 15 })
            expect(value).not.toHaveProperty('address')
          } else if (property.type === 'array') {
            // Upload ids of the outbox: the server's file ids replace them
            expect(Array.isArray(value)).toBe(true)
            expect((value as unknown[]).length).toBeGreaterThanOrEqual(property.minItems ?? 0)
          } else if (property.type) {
            expect(jsonType(value)).toBe(property.type)
          }
          if (property.pattern) expect(String(value)).toMatch(new RegExp(property.pattern))
        }
        if ('amount' in body) expect(body.amount).toBe('1280.50')
        if ('description' in body) expect(body.description).toBe('检查完成，一切正常')
        if ('appointment' in body) expect(body.appointment).toBe('2031-05-29T10:00:00+08:00')
      })

      it('comes back from the outbox as it was entered (a refused one, to change)', () => {
        const values = emptyValues(action)
        for (const field of action.fields) values[field.name] = filled(field, ['upload-1'])
        const again = restoreValues(action, stepValues(action, values))
        expect(stepValues(action, again)).toEqual(stepValues(action, values))
      })

      it('is the same form in English, with English labels', () => {
        const english = record.actions_en.find((other) => other.action === action.action)!
        expect(english.fields.map((field) => [field.name, field.kind, field.required]))
          .toEqual(action.fields.map((field) => [field.name, field.kind, field.required]))
        expect(english.button).not.toBe(action.button)
      })
    })
  }
})

describe('the checks of a field', () => {
  const action = offered.find(({ action: candidate }) => candidate.action === 'visit_onsite')!.action
  const quote = offered.find(({ action: candidate }) => candidate.action === 'submit_quote')!.action
  const assessment = offered.find(({ action: candidate }) => candidate.action === 'submit_assessment')!.action

  it('keeps an appointment at or after the minimum the server gives', () => {
    const minimum = action.fields.find((field) => field.name === 'appointment')!.minimum as string
    const values = emptyValues(action)
    values.appointment = instantToPicked(Date.parse(minimum) - 3600 * 1000)
    expect(validate(action, values, t).appointment).toMatch(/不能早于/)
    values.appointment = instantToPicked(Date.parse(minimum) + 3600 * 1000)
    expect(validate(action, values, t)).toEqual({})
  })

  it('takes money with up to two decimals, more than its minimum', () => {
    const values = emptyValues(quote)
    values.description = '方案'
    for (const bad of ['abc', '12.345', '-5', '1e3']) {
      values.amount = bad
      expect(validate(quote, values, t).amount, bad).toBe(t('form.money'))
    }
    const amount = quote.fields.find((field) => field.name === 'amount')!
    values.amount = '0'
    if (amount.exclusive_minimum !== undefined) expect(validate(quote, values, t).amount).toMatch(/大于/)
    values.amount = '1000'
    expect(validate(quote, values, t)).toEqual({})
    expect(stepValues(quote, values).amount).toBe('1000.00')
  })

  it('counts the photos and refuses a refused upload', () => {
    const values = emptyValues(assessment)
    values.description = '评估'
    values.check_in = { time: '2031-05-29T10:05:00+08:00', latitude: 1, longitude: 2, accuracy: 3, coordinate_system: 'wgs84' }
    expect(validate(assessment, values, t).photos).toBe(t('form.required'))
    values.photos = ['a', 'b']
    const refused = { id: 'b', state: 'refused' } as never
    expect(validate(assessment, values, t, (id) => (id === 'b' ? refused : undefined)).photos).toBe(t('form.upload_refused'))
    expect(validate(assessment, values, t, () => undefined)).toEqual({})
  })

  it('asks for the photos a workflow wants, even when it does not say required', () => {
    // An administrator's rule: two photos at least, the field not marked required
    const edited: Action = { ...assessment, fields: assessment.fields.map((field) =>
      field.name === 'photos' ? { ...field, required: false, min_items: 2 } : field) }
    const values = emptyValues(edited)
    values.description = '评估'
    values.check_in = { time: '2031-05-29T10:05:00+08:00', latitude: 1, longitude: 2, accuracy: 3, coordinate_system: 'wgs84' }
    expect(validate(edited, values, t).photos).toBe(t('form.required'))
    values.photos = ['a']
    expect(validate(edited, values, t).photos).toBe(t('form.too_few', { min: 2 }))
    values.photos = ['a', 'b']
    expect(validate(edited, values, t)).toEqual({})
  })

  it('puts the server’s refusal under its fields, the rest above the button', () => {
    const { fields, other } = refusalErrors(assessment, {
      status: 422, code: 'invalid_evidence', message: '以下字段缺失或无效',
      fields: {
        'photos[1]': { code: 'images_only', message: '只能是照片' },
        'check_in.latitude': { code: 'maximum', message: '纬度超出范围' },
        appointment: { code: 'unknown', message: '多余的字段' },
      },
    })
    expect(fields).toEqual({ photos: '只能是照片', check_in: '纬度超出范围' })
    expect(other).toEqual(['多余的字段'])
    expect(refusalErrors(assessment, { status: 409, code: 'step_not_allowed', message: '订单已取消', fields: {} }))
      .toEqual({ fields: {}, other: ['订单已取消'] })
  })
})
