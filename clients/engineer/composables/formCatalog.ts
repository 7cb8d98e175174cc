// Working ahead offline. The API gives the form of the current step only
// (progress.actions); when a step waits in the outbox, what comes after it
// is not known until the server has it. So the app learns, from every task
// it reads, what the engineer is offered right after each of their actions:
// the task's latest record is the engineer's action A, its actions now are
// what follows A in that type's workflow (none, when the customer answers
// next). With this, the form after the steps waiting can be filled in
// offline; the server still decides, and refuses what does not fit (kept,
// with its reason, to change or discard). What was learned of another type
// stands in for a type not seen at that point yet (the workflows share
// their shape; their labels may differ).
import { storage, type Schemas } from '@instrument/shared'

type Action = Schemas['Action']
type Task = Schemas['OrderDetail']

export interface FormCatalog {
  /** `type|action` → the engineer's actions right after it (maybe none);
   * `*|action`: the same, of the type seen last */
  after: Record<string, Action[]>
}

const KEY = 'forms.catalog'

export function emptyCatalog(): FormCatalog {
  return { after: {} }
}

function latestRecord(task: Task): Schemas['ProgressRecord'] | undefined {
  let latest: Schemas['ProgressRecord'] | undefined
  for (const step of task.progress.steps) {
    for (const record of step.records) {
      if (!latest || record.id > latest.id) latest = record
    }
  }
  return latest
}

/** Learn from a task as the server gave it (in place); true when it taught
 * something new */
export function learn(catalog: FormCatalog, task: Task): boolean {
  if (task.state !== 'in_progress') return false
  const latest = latestRecord(task)
  if (!latest || latest.actor_role !== 'engineer') return false
  const key = `${task.type}|${latest.action}`
  const actions = task.progress.actions.filter((action) => action.actor === 'engineer')
  if (JSON.stringify(catalog.after[key]) === JSON.stringify(actions)) return false
  catalog.after[key] = actions
  catalog.after[`*|${latest.action}`] = actions
  return true
}

/** The action's operation and upload paths for another task: the API's
 * paths name the order (/api/v1/engineer/tasks/<id>/…) */
export function retarget(action: Action, taskId: number): Action {
  const move = (path: string) => path.replace(/\/engineer\/tasks\/\d+\//, `/engineer/tasks/${taskId}/`)
  return {
    ...action,
    request: { ...action.request, path: move(action.request.path) },
    fields: action.fields.map((field) => {
      const copy = { ...field }
      if (copy.upload) copy.upload = move(copy.upload)
      // The earliest appointment is the order's own (its submission): the
      // learned one is another order's; the server checks it
      if (copy.kind === 'datetime') delete copy.minimum
      return copy
    }),
  }
}

/** What the engineer will be offered on the task once `last` (the latest of
 * the actions waiting in the outbox) is done; null when not known yet */
export function predict(catalog: FormCatalog, task: Task, last: string): Action[] | null {
  const actions = catalog.after[`${task.type}|${last}`] ?? catalog.after[`*|${last}`]
  return actions ? actions.map((action) => retarget(action, task.id)) : null
}

export function loadCatalog(): FormCatalog {
  const saved = storage.get<FormCatalog>(KEY)
  return saved && saved.after ? saved : emptyCatalog()
}

export function saveCatalog(catalog: FormCatalog): void {
  storage.set(KEY, catalog)
}
