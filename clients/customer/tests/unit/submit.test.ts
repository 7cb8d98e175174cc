// Submitting an order: the Idempotency-Key is made once, kept with the draft
// in storage through a failed attempt (a lost answer, a closed app) and sent
// again unchanged; the subscription request of WeChat happens inside the
// submit tap only, and a refusal never stops the order.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { ApiError, type Schemas } from '@instrument/shared'
import { useOrderDraft, draftKey } from '@/composables/useOrderDraft'
import { useOrderSubmit } from '@/composables/useOrderSubmit'
import type { OrderType } from '@/composables/orderForm'
import { storedValue, uniMock } from './setup'

const examples = JSON.parse(readFileSync(path.resolve(__dirname, '../../../../addons/instrument_service_api/examples.json'), 'utf8'))
const repair = (examples['GET /order-types'].items as OrderType[]).find((type) => type.code === 'repair')!
const ORDER = examples['POST /orders'] as Schemas['OrderDetail']
const t = (key: string) => key

const config = {
  service_phone: null,
  uploads: {} as never,
  languages: ['zh_CN', 'en'] as Array<'zh_CN' | 'en'>,
  wechat: { subscribe_templates: { a: 't1', b: 't2', c: 't3', d: 't4', e: 't5', f: 't6', g: 't7' } },
}

function form(send: ReturnType<typeof vi.fn>) {
  const { draft, save, clear } = useOrderDraft(repair, 0)
  Object.assign(draft.contact, { name: '刘洋', company: '联科', phone: '13901760231' })
  Object.assign(draft.lines[0], { instrument_name: '液相色谱仪', brand: 'Agilent', fault_description: '泵压力波动' })
  const submitter = useOrderSubmit({ draft, type: () => repair, config: () => config, send, save, clear, t })
  return { draft, ...submitter }
}

function savedKey(): string | null {
  const saved = storedValue(draftKey('repair'))
  return saved ? JSON.parse(saved as string).idempotencyKey : null
}

describe('the Idempotency-Key of an order', () => {
  it('is kept through a lost answer and sent again unchanged, then forgotten', async () => {
    const send = vi.fn()
      .mockRejectedValueOnce(new ApiError(0, 'network', '网络连接失败'))
      .mockResolvedValueOnce(ORDER)
    const { submit, submitting, message, draft } = form(send)
    const first = submit()
    expect(submitting.value).toBe(true)
    expect(await first).toEqual({ ok: false, reason: 'network' })
    // The button is back, with a message; the key is in storage with the draft
    expect(submitting.value).toBe(false)
    expect(message.value).toBe('网络连接失败')
    const key = send.mock.calls[0][1]
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(draft.idempotencyKey).toBe(key)
    expect(savedKey()).toBe(key)

    expect(await submit()).toEqual({ ok: true, order: ORDER })
    expect(send.mock.calls[1][1]).toBe(key)
    expect(send.mock.calls[1][0]).toEqual(send.mock.calls[0][0])
    // The order is made: the draft and its key are gone, for good
    expect(storedValue(draftKey('repair'))).toBeUndefined()
    draft.contact.name = 'changed after'
    await nextTick()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(storedValue(draftKey('repair'))).toBeUndefined()
  })

  it('outlives a closed app: the reopened form sends the same key', async () => {
    const lost = vi.fn().mockRejectedValue(new ApiError(503, 'database_unavailable', '服务繁忙'))
    await form(lost).submit()
    const key = lost.mock.calls[0][1]
    const send = vi.fn().mockResolvedValue(ORDER)
    const reopened = form(send)
    expect(reopened.draft.idempotencyKey).toBe(key)
    expect(reopened.draft.lines[0].fault_description).toBe('泵压力波动')
    await reopened.submit()
    expect(send.mock.calls[0][1]).toBe(key)
  })

  it('gives the refused fields their messages, and loses nothing typed', async () => {
    const send = vi.fn().mockRejectedValue(new ApiError(422, 'invalid_field', '以下字段无效', {
      'contact.phone': { code: 'phone', message: '请输入正确的电话号码' },
      'lines[0].quantity': { code: 'maximum', message: '不能大于 9999' },
    }))
    const { submit, errors, draft } = form(send)
    expect(await submit()).toEqual({ ok: false, reason: 'refused' })
    expect(errors.value).toEqual({ 'contact.phone': '请输入正确的电话号码', 'lines[0].quantity': '不能大于 9999' })
    expect(draft.contact.name).toBe('刘洋')
    expect(JSON.parse(storedValue(draftKey('repair')) as string).lines[0].instrument_name).toBe('液相色谱仪')
  })

  it('tells the customer when the first attempt had made the order', async () => {
    const send = vi.fn().mockRejectedValue(new ApiError(422, 'idempotency_key_reused', 'reused'))
    const { submit, message } = form(send)
    expect(await submit()).toEqual({ ok: false, reason: 'already' })
    expect(message.value).toBe('submit.already')
    expect(storedValue(draftKey('repair'))).toBeUndefined()
  })

  it('sends nothing while the form itself is incomplete', async () => {
    const send = vi.fn()
    const { submit, errors, draft } = form(send)
    draft.contact.phone = ''
    draft.lines[0].brand = ''
    expect(await submit()).toEqual({ ok: false, reason: 'invalid' })
    expect(errors.value).toEqual({ 'contact.phone': 'form.required', 'lines[0].brand': 'form.required' })
    expect(send).not.toHaveBeenCalled()
    expect(draft.idempotencyKey).toBeNull()
  })
})

describe('the subscription request of the submit tap (WeChat)', () => {
  it('is made in the tap itself, before the order is sent, with 5 templates at most', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    const calls: string[] = []
    uniMock.requestSubscribeMessage.mockImplementation(({ success }) => {
      calls.push('subscribe')
      setTimeout(() => success({ errMsg: 'requestSubscribeMessage:ok' }), 0)
    })
    const send = vi.fn().mockImplementation(() => {
      calls.push('send')
      return Promise.resolve(ORDER)
    })
    const { submit } = form(send)
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
    const outcome = submit()
    // Synchronously, in the handler of the tap
    expect(uniMock.requestSubscribeMessage).toHaveBeenCalledTimes(1)
    expect(uniMock.requestSubscribeMessage.mock.calls[0][0].tmplIds).toEqual(['t1', 't2', 't3', 't4', 't5'])
    expect(await outcome).toMatchObject({ ok: true })
    expect(calls).toEqual(['subscribe', 'send'])
  })

  it('never stops the order when refused', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    uniMock.requestSubscribeMessage.mockImplementation(({ fail }) => fail({ errMsg: 'requestSubscribeMessage:fail cancel' }))
    const send = vi.fn().mockResolvedValue(ORDER)
    expect(await form(send).submit()).toMatchObject({ ok: true })
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('is not made for a form that cannot be sent, nor on H5', async () => {
    process.env.UNI_PLATFORM = 'mp-weixin'
    const incomplete = form(vi.fn())
    incomplete.draft.contact.name = ''
    await incomplete.submit()
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
    process.env.UNI_PLATFORM = 'h5'
    await form(vi.fn().mockResolvedValue(ORDER)).submit()
    expect(uniMock.requestSubscribeMessage).not.toHaveBeenCalled()
  })
})
