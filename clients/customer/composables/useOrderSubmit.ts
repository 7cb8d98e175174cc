// Submitting an order: the form's own checks first; then, in the same tap,
// the WeChat subscription request; then POST /orders with the draft's
// Idempotency-Key. The key is made once and kept in the draft (in storage)
// until the order is made, so a retry after a lost answer (a cut network, a
// closed app) answers the same order instead of making a second one.
import { ref } from 'vue'
import { ApiError, fieldErrors, newIdempotencyKey, type Schemas } from '@instrument/shared'
import { requestSubscriptions } from './useSubscribeMessages'
import { submission, validateDraft, type OrderDraft, type OrderType } from './orderForm'

type Translate = (key: string, vars?: Record<string, string | number>) => string

export interface OrderSubmitOptions {
  draft: OrderDraft
  type(): OrderType
  config(): Schemas['ClientConfig'] | null | undefined
  /** order_files of /order-types (how many files the order takes) */
  orderFiles?(): { max_items?: number } | undefined
  send(body: Schemas['OrderSubmission'], key: string): Promise<Schemas['OrderDetail']>
  /** Write the draft to storage now */
  save(): void
  /** Forget the draft (the order is made) */
  clear(): void
  t: Translate
}

export type SubmitOutcome =
  | { ok: true; order: Schemas['OrderDetail'] }
  | { ok: false; reason: 'invalid' | 'network' | 'refused' | 'already' }

export function useOrderSubmit(options: OrderSubmitOptions) {
  const submitting = ref(false)
  const errors = ref<Record<string, string>>({})
  const message = ref('')

  /** The handler of the submit tap */
  function submit(): Promise<SubmitOutcome> {
    if (submitting.value) return Promise.resolve({ ok: false, reason: 'invalid' })
    const { draft, t } = options
    const type = options.type()
    const local = validateDraft(type, draft, t, options.orderFiles?.())
    if (Object.keys(local).length) {
      errors.value = local
      message.value = t('form.check')
      return Promise.resolve({ ok: false, reason: 'invalid' })
    }
    // WeChat lets the app ask only inside the tap: before anything is awaited
    const asked = requestSubscriptions(options.config())
    if (!draft.idempotencyKey) draft.idempotencyKey = newIdempotencyKey()
    options.save()
    errors.value = {}
    message.value = ''
    submitting.value = true
    return send(type, draft, asked)
  }

  async function send(type: OrderType, draft: OrderDraft, asked: Promise<void>): Promise<SubmitOutcome> {
    const { t } = options
    try {
      const order = await options.send(submission(type, draft), draft.idempotencyKey!)
      draft.idempotencyKey = null
      options.clear()
      await asked
      return { ok: true, order }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      if (error.code === 'idempotency_key_reused') {
        // The first request made the order (its answer was lost) with the
        // form as it was then
        draft.idempotencyKey = null
        options.clear()
        message.value = t('submit.already')
        return { ok: false, reason: 'already' }
      }
      message.value = error.message
      if (error.status === 0 || error.status >= 500) return { ok: false, reason: 'network' }
      errors.value = fieldErrors(error)
      return { ok: false, reason: 'refused' }
    } finally {
      submitting.value = false
      options.save()
    }
  }

  return { submit, submitting, errors, message }
}
