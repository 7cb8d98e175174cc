// A step goes through the outbox with its photos: the photos first (each
// with its key), then the step citing the server's file ids; a refused step
// keeps its values for the form; and the step after one waiting can be
// filled in from what was learned (the form catalog).
import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { MemoryStore, type Schemas } from '@instrument/shared'
import recorded from './fixtures/workflow-actions.json'
import { emptyValues, restoreValues, stepValues, type Action } from '@/composables/stepForm'
import { emptyCatalog, learn, predict, retarget } from '@/composables/formCatalog'
import { useOutboxStore } from '@/stores/outbox'
import { offline, useOfflineStore } from '@/services/outbox'
import { serve } from './setup'

type Task = Schemas['OrderDetail']
type Record_ = { type: string; step: string; note: string; actions: Action[] }
const records = recorded.records as unknown as Record_[]

function actionAt(type: string, note: string, action: string): Action {
  return records.find((record) => record.type === type && record.note === note)!.actions.find((each) => each.action === action)!
}

beforeEach(async () => {
  setActivePinia(createPinia())
  useOfflineStore(new MemoryStore())
  await useOutboxStore().init()
})

describe('a step through the outbox', () => {
  it('sends its photos, then the step with their file ids', async () => {
    let file = 300
    const seen = serve(({ url }) => {
      if (url.endsWith('/files')) return { statusCode: 201, data: { id: ++file, name: 'a.jpg', mimetype: 'image/jpeg', size: 1, url: '', thumbnail_url: '' } }
      return { statusCode: 200, data: { id: 12 } }
    })
    const outbox = useOutboxStore()
    const action = retarget(actionAt('repair', 'visit on site', 'submit_assessment'), 12)
    const photo1 = await outbox.addFile(12, { localPath: 'blob:one', name: 'one.jpg', kind: 'photo' })
    const photo2 = await outbox.addFile(12, { localPath: 'blob:two', name: 'two.jpg', kind: 'photo' })
    const values = emptyValues(action)
    values.description = '密封圈老化'
    values.check_in = { time: '2026-12-05T10:05:00+08:00', latitude: 31.2, longitude: 121.6, accuracy: 15, coordinate_system: 'wgs84' }
    values.photos = [photo1.id, photo2.id]
    const step = await outbox.submitStep(12, action, stepValues(action, values))
    expect((await outbox.settle(step.id, 5000)).state).toBe('sent')
    expect(seen.map((request) => request.url.replace(/^.*\/api\/v1/, ''))).toEqual([
      '/engineer/tasks/12/files', '/engineer/tasks/12/files', '/engineer/tasks/12/steps',
    ])
    expect(seen[2].body).toEqual({
      action: 'submit_assessment', description: '密封圈老化', photos: [301, 302],
      check_in: { time: '2026-12-05T10:05:00+08:00', latitude: 31.2, longitude: 121.6, accuracy: 15, coordinate_system: 'wgs84' },
    })
    const keys = seen.map((request) => request.header['Idempotency-Key'])
    expect(new Set(keys).size).toBe(3)
  })

  it('keeps a refused step with its reason and values, to change it', async () => {
    serve(() => ({
      statusCode: 409,
      data: { error: { code: 'step_not_allowed', message: '订单已进入下一步或已取消，请刷新任务' } },
    }))
    const outbox = useOutboxStore()
    const action = retarget(actionAt('repair', 'accepted', 'visit_onsite'), 12)
    const step = await outbox.submitStep(12, action, { appointment: '2031-05-29T10:00:00+08:00' })
    const settled = await outbox.settle(step.id, 5000)
    expect(settled.state).toBe('refused')
    const item = outbox.item(step.id)!
    expect(item.error).toMatchObject({ status: 409, code: 'step_not_allowed' })
    // The form comes back with what was entered
    const again = restoreValues(action, item.kind === 'step' ? item.payload.values : null)
    expect(stepValues(action, again)).toEqual({ appointment: '2031-05-29T10:00:00+08:00' })
    offline().outbox.stop()
  })
})

/** A task as the server gives it, at the point `after` led to */
function taskAfter(type: string, id: number, latest: string, actions: Action[], recordId = 10): Task {
  return {
    id, type, state: 'in_progress', visit_mode: 'onsite',
    progress: {
      current_step: 'visit', actions,
      steps: [
        { code: 'accepted', status: 'done', records: [{ id: recordId - 1, action: 'accept', actor_role: 'engineer' }] },
        { code: 'visit', status: 'current', records: [{ id: recordId, action: latest, actor_role: 'engineer' }] },
      ],
    },
  } as unknown as Task
}

describe('the form after a step waiting (learned)', () => {
  const assessment = actionAt('repair', 'visit on site', 'submit_assessment')
  const maintenanceAssessment = actionAt('maintenance', 'visit on site', 'submit_assessment')

  it('learns what follows an engineer’s action, and offers it for another task with its paths', () => {
    const catalog = emptyCatalog()
    expect(learn(catalog, taskAfter('repair', 3, 'visit_onsite', [assessment]))).toBe(true)
    expect(learn(catalog, taskAfter('repair', 3, 'visit_onsite', [assessment]))).toBe(false)
    const other = taskAfter('repair', 88, 'accept', [])
    const predicted = predict(catalog, other, 'visit_onsite')!
    expect(predicted.map((action) => action.action)).toEqual(['submit_assessment'])
    expect(predicted[0].request.path).toBe('/api/v1/engineer/tasks/88/steps')
    expect(predicted[0].fields.find((field) => field.name === 'photos')!.upload).toBe('/api/v1/engineer/tasks/88/files')
    expect(predicted[0].label).toBe(assessment.label)
  })

  it('learns that nothing follows (the customer answers next), and knows nothing it was not taught', () => {
    const catalog = emptyCatalog()
    learn(catalog, taskAfter('repair', 3, 'submit_quote', []))
    expect(predict(catalog, taskAfter('repair', 9, 'accept', []), 'submit_quote')).toEqual([])
    expect(predict(catalog, taskAfter('repair', 9, 'accept', []), 'submit_report')).toBeNull()
  })

  it('prefers the type’s own form, else another type’s', () => {
    const catalog = emptyCatalog()
    learn(catalog, taskAfter('maintenance', 4, 'visit_onsite', [maintenanceAssessment]))
    expect(predict(catalog, taskAfter('repair', 9, 'accept', []), 'visit_onsite')![0].label).toBe(maintenanceAssessment.label)
    learn(catalog, taskAfter('repair', 3, 'visit_onsite', [assessment]))
    expect(predict(catalog, taskAfter('repair', 9, 'accept', []), 'visit_onsite')![0].label).toBe(assessment.label)
  })

  it('learns only from the engineer’s latest action on a task in progress', () => {
    const catalog = emptyCatalog()
    const customerLast = taskAfter('repair', 3, 'visit_onsite', [assessment])
    customerLast.progress.steps[1].records[0].actor_role = 'customer'
    expect(learn(catalog, customerLast)).toBe(false)
    const done = taskAfter('repair', 3, 'visit_onsite', [assessment])
    done.state = 'done'
    expect(learn(catalog, done)).toBe(false)
  })

  it('leaves out the learned earliest appointment, another order’s', () => {
    const visit = actionAt('repair', 'accepted', 'visit_onsite')
    expect(visit.fields[0].minimum).toBeTruthy()
    expect(retarget(visit, 5).fields[0].minimum).toBeUndefined()
  })
})
