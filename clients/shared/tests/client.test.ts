import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  ApiError, createClient, fieldErrors, newIdempotencyKey, parseRetryAfter,
  TransportFailure, type ClientOptions, type Transport, type TransportResponse,
} from '../src/api/client'
import { createApi } from '../src/api/endpoints'
import { uniMock } from './setup'
import examples from '../../../addons/instrument_service_api/examples.json'

// Error bodies as the API answers them (POST /auth/dev/code, GET /orders
// without a token, POST /orders of tests/test_http_bad_input.py, a busy
// database, a refused upload)
const INVALID_PHONE_EN = {
  error: {
    code: 'invalid_field',
    message: 'Invalid or missing fields: phone, x.',
    fields: {
      phone: { code: 'phone', message: 'A phone number: 5 to 20 digits, +, -, brackets or spaces.' },
      x: { code: 'unknown', message: 'Not a field of this request: remove it.' },
    },
  },
}
const INVALID_ORDER = {
  error: {
    code: 'invalid_field',
    message: '以下字段缺失或无效：contact.phone, lines[0].quantity。',
    fields: {
      'contact.phone': { code: 'phone', message: '请填写有效的电话号码：5 至 20 位数字，可含 +、-、括号和空格。' },
      'lines[0].quantity': { code: 'minimum', message: '不能小于 1。' },
    },
  },
}
const UNAUTHORIZED = { error: { code: 'unauthorized', message: '请先登录：令牌缺失、无效或已过期。' } }
const BUSY = { error: { code: 'database_unavailable', message: '服务暂时无法连接数据库，请几秒后重试。' } }
const FILE_TYPE = {
  error: { code: 'unsupported_file_type', message: '仅支持照片（JPEG、PNG、WebP、HEIC）和文档（PDF、Word、Excel）。' },
}

function answer(statusCode: number, body?: unknown, header: Record<string, string> = {}): TransportResponse {
  return { statusCode, header, data: body === undefined ? '' : JSON.stringify(body) }
}

function fakeTransport() {
  return { request: vi.fn<Transport['request']>(), upload: vi.fn<Transport['upload']>() }
}

function client(transport: Transport, options: Partial<ClientOptions> = {}) {
  return createClient({
    baseUrl: 'https://service.example.com',
    token: () => 'tok-1',
    language: () => 'zh_CN',
    transport,
    ...options,
  })
}

describe('requests', () => {
  it('send the token, the language and JSON, to /api/v1 paths', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(200, examples['GET /orders']))
    const api = client(transport, { language: () => 'en' })

    const page = await api.get('/orders', { state: 'done', page: 2, type: undefined })
    expect(page).toEqual(examples['GET /orders'])
    const sent = transport.request.mock.calls[0][0]
    expect(sent.url).toBe('https://service.example.com/api/v1/orders?state=done&page=2')
    expect(sent.method).toBe('GET')
    expect(sent.header).toEqual({ Authorization: 'Bearer tok-1', 'Accept-Language': 'en' })
    expect(sent.data).toBeUndefined()

    await api.post('/api/v1/orders/3/quote/confirm', { reason: 'x' })
    const post = transport.request.mock.calls[1][0]
    expect(post.url).toBe('https://service.example.com/api/v1/orders/3/quote/confirm')
    expect(post.header['Content-Type']).toBe('application/json')
    expect(JSON.parse(post.data!)).toEqual({ reason: 'x' })
  })

  it('send no Authorization without a token; H5 uses the same origin', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(200, examples['GET /config']))
    await client(transport, { baseUrl: '', token: () => null }).get('/config')
    const sent = transport.request.mock.calls[0][0]
    expect(sent.url).toBe('/api/v1/config')
    expect(sent.header).toEqual({ 'Accept-Language': 'zh_CN' })
  })

  it('answer nothing for a 204', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(204))
    await expect(client(transport).post('/auth/dev/code', { phone: '13901760231' }))
      .resolves.toBeUndefined()
  })

  it('go through uni.request by default, parsing the text', async () => {
    uniMock.request.mockImplementation((options) => {
      options.success({ statusCode: 200, header: {}, data: JSON.stringify(examples['GET /me']) })
    })
    const api = createClient({ baseUrl: '', token: () => 'tok-2', language: () => 'zh_CN' })
    await expect(api.get('/me')).resolves.toEqual(examples['GET /me'])
    const options = uniMock.request.mock.calls[0][0]
    expect(options).toMatchObject({
      url: '/api/v1/me',
      method: 'GET',
      header: { Authorization: 'Bearer tok-2', 'Accept-Language': 'zh_CN' },
    })
  })
})

describe('errors', () => {
  it('map an error answer to ApiError with its fields', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(422, INVALID_PHONE_EN))
    const error = await client(transport).post('/auth/dev/code', { phone: '123', x: 1 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({
      status: 422,
      code: 'invalid_field',
      message: 'Invalid or missing fields: phone, x.',
      fields: INVALID_PHONE_EN.error.fields,
    })
    expect((error as ApiError).retryAfter).toBeUndefined()
  })

  it('give a form its messages by path (fieldErrors)', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(422, INVALID_ORDER))
    const error = await client(transport).post('/orders', {}, { idempotencyKey: 'k' })
      .catch((e: unknown) => e)
    expect(fieldErrors(error)).toEqual({
      'contact.phone': '请填写有效的电话号码：5 至 20 位数字，可含 +、-、括号和空格。',
      'lines[0].quantity': '不能小于 1。',
    })
    // An error that names no field: its message under ''
    expect(fieldErrors(new ApiError(409, 'step_not_allowed', '订单已变化'))).toEqual({ '': '订单已变化' })
    expect(fieldErrors(new Error('boom'))).toEqual({ '': 'boom' })
    expect(fieldErrors(undefined)).toEqual({})
  })

  it('read Retry-After', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(429, { error: { code: 'rate_limited', message: '稍后' } },
      { 'retry-after': '30' }))
    await expect(client(transport).post('/auth/login', {})).rejects.toMatchObject({
      status: 429, code: 'rate_limited', retryAfter: 30,
    })
    expect(parseRetryAfter('Sat, 05 Dec 2026 03:00:10 GMT', Date.parse('2026-12-05T03:00:00Z'))).toBe(10)
    expect(parseRetryAfter('soon')).toBeUndefined()
  })

  it('map an answer that is not the API\'s', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue({ statusCode: 413, data: '<html>Too large</html>' })
    await expect(client(transport, { language: () => 'en' }).post('/orders')).rejects.toMatchObject({
      status: 413, code: 'http_413', message: 'The request failed (413): please try again later',
    })
  })

  it('call onUnauthorized on a 401, not on a failed login', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(401, UNAUTHORIZED))
    const onUnauthorized = vi.fn()
    const api = client(transport, { onUnauthorized })
    await expect(api.get('/orders')).rejects.toMatchObject({ status: 401, code: 'unauthorized' })
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    await expect(api.post('/auth/login', { login: 'a', password: 'b' })).rejects.toBeInstanceOf(ApiError)
    expect(onUnauthorized).toHaveBeenCalledTimes(1)
    // A 401 is final: not retried
    expect(transport.request).toHaveBeenCalledTimes(2)
  })

  it('say a network failure in the app\'s language', async () => {
    const transport = fakeTransport()
    transport.request.mockRejectedValue(new TransportFailure('request:fail timeout'))
    await expect(client(transport, { attempts: 1 }).post('/orders')).rejects.toMatchObject({
      status: 0, code: 'network', message: '网络连接失败，请检查网络后重试',
    })
    await expect(client(transport, { attempts: 1, language: () => 'en' }).post('/orders'))
      .rejects.toMatchObject({ status: 0, message: 'No connection: check the network and try again' })
    await expect(client(transport, { attempts: 1, networkMessage: () => '没网' }).post('/orders'))
      .rejects.toMatchObject({ status: 0, message: '没网' })
  })

  it('say a failure of uni.request as a network error', async () => {
    uniMock.request.mockImplementation((options) => options.fail({ errMsg: 'request:fail' }))
    const api = createClient({ baseUrl: '', token: () => null, language: () => 'zh_CN', attempts: 1 })
    await expect(api.get('/config')).rejects.toMatchObject({ status: 0, code: 'network' })
  })
})

/** The attempts made once `ms` more have passed */
async function attemptsAfter(transport: ReturnType<typeof fakeTransport>, ms: number) {
  await vi.advanceTimersByTimeAsync(ms)
  return transport.request.mock.calls.length
}

describe('retries', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    // No jitter: each back-off is exactly its base
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('retry a read on network errors, backing off exponentially', async () => {
    const transport = fakeTransport()
    transport.request
      .mockRejectedValueOnce(new TransportFailure('offline'))
      .mockRejectedValueOnce(new TransportFailure('offline'))
      .mockResolvedValueOnce(answer(200, examples['GET /orders/{order_id}']))
    const pending = client(transport).get('/orders/1')
    expect(await attemptsAfter(transport, 0)).toBe(1)
    expect(await attemptsAfter(transport, 499)).toBe(1)
    expect(await attemptsAfter(transport, 1)).toBe(2)
    expect(await attemptsAfter(transport, 999)).toBe(2)
    expect(await attemptsAfter(transport, 1)).toBe(3)
    await expect(pending).resolves.toEqual(examples['GET /orders/{order_id}'])
  })

  it('wait Retry-After on a 503, and give up after 3 attempts', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(503, BUSY, { 'Retry-After': '2' }))
    const pending = client(transport).get('/orders').catch((e: unknown) => e)
    expect(await attemptsAfter(transport, 1999)).toBe(1)
    expect(await attemptsAfter(transport, 1)).toBe(2)
    expect(await attemptsAfter(transport, 2000)).toBe(3)
    expect(await attemptsAfter(transport, 60000)).toBe(3)
    expect(await pending).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: 2 })
  })

  it('jitter the back-off', async () => {
    vi.mocked(Math.random).mockReturnValue(0)
    const transport = fakeTransport()
    transport.request
      .mockResolvedValueOnce({ statusCode: 502, data: '<html>Bad Gateway</html>' })
      .mockResolvedValueOnce(answer(200, {}))
    const pending = client(transport).get('/config')
    expect(await attemptsAfter(transport, 250)).toBe(2)
    await expect(pending).resolves.toEqual({})
  })

  it('do not wait a Retry-After longer than maxDelay', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(503, BUSY, { 'Retry-After': '120' }))
    await expect(client(transport).get('/orders')).rejects.toMatchObject({ retryAfter: 120 })
    expect(transport.request).toHaveBeenCalledTimes(1)
  })

  it('do not retry other errors', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(404, { error: { code: 'not_found', message: '未找到' } }))
    await expect(client(transport).get('/orders/999')).rejects.toMatchObject({ status: 404 })
    expect(transport.request).toHaveBeenCalledTimes(1)
  })

  it('never retry a write without an idempotency key', async () => {
    const transport = fakeTransport()
    transport.request.mockRejectedValue(new TransportFailure('offline'))
    const api = client(transport)
    const network = api.post('/orders/1/cancel', { reason: '不需要了' }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(60000)
    expect(await network).toMatchObject({ status: 0, code: 'network' })
    expect(transport.request).toHaveBeenCalledTimes(1)

    transport.request.mockResolvedValue(answer(503, BUSY, { 'Retry-After': '1' }))
    const busy = api.put('/me', { contact: {} }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(60000)
    expect(await busy).toMatchObject({ status: 503 })
    expect(transport.request).toHaveBeenCalledTimes(2)
  })

  it('retry a write with its key, the same key every time', async () => {
    const transport = fakeTransport()
    transport.request
      .mockRejectedValueOnce(new TransportFailure('offline'))
      .mockResolvedValueOnce(answer(503, BUSY, { 'Retry-After': '1' }))
      .mockResolvedValueOnce(answer(201, examples['POST /orders']))
    const key = newIdempotencyKey()
    const pending = createApi(client(transport)).submitOrder(
      { type: 'repair' } as never, key)
    await vi.advanceTimersByTimeAsync(1500)
    await expect(pending).resolves.toEqual(examples['POST /orders'])
    expect(transport.request).toHaveBeenCalledTimes(3)
    const keys = transport.request.mock.calls.map(([sent]) => sent.header['Idempotency-Key'])
    expect(keys).toEqual([key, key, key])
    const bodies = transport.request.mock.calls.map(([sent]) => sent.data)
    expect(new Set(bodies).size).toBe(1)
  })
})

describe('uploads', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function uploadAnswers(...answers: Array<{ statusCode: number; data: string } | 'fail'>) {
    const progress: Array<(update: { progress: number }) => void> = []
    uniMock.uploadFile.mockImplementation((options) => {
      const next = answers.shift()!
      const task = { onProgressUpdate: (callback: (update: { progress: number }) => void) => { progress.push(callback) } }
      setTimeout(() => {
        const report = progress[progress.length - 1]
        report?.({ progress: 40 })
        report?.({ progress: 100 })
        if (next === 'fail') options.fail({ errMsg: 'uploadFile:fail' })
        else options.success(next)
      }, 0)
      return task
    })
  }

  function uniClient() {
    return createClient({ baseUrl: 'https://service.example.com', token: () => 'tok-3', language: () => 'zh_CN' })
  }

  it('send one file in `file` with its key, report progress and answer the File', async () => {
    uploadAnswers({ statusCode: 201, data: JSON.stringify(examples['POST /files']) })
    const onProgress = vi.fn()
    const file = await createApi(uniClient()).uploadFile({ filePath: 'wxfile://tmp_1.jpg', name: 'fault.jpg' },
      { idempotencyKey: 'key-1', onProgress })
    expect(file).toEqual(examples['POST /files'])
    expect(onProgress.mock.calls).toEqual([[40], [100]])
    expect(uniMock.uploadFile.mock.calls[0][0]).toMatchObject({
      url: 'https://service.example.com/api/v1/files',
      filePath: 'wxfile://tmp_1.jpg',
      name: 'file',
      header: { Authorization: 'Bearer tok-3', 'Accept-Language': 'zh_CN', 'Idempotency-Key': 'key-1' },
    })
  })

  it('map a refused file to ApiError', async () => {
    uploadAnswers({ statusCode: 415, data: JSON.stringify(FILE_TYPE) })
    const error = await createApi(uniClient()).uploadTaskFile(7, { filePath: 'blob:x' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 415, code: 'unsupported_file_type', message: FILE_TYPE.error.message })
    expect(uniMock.uploadFile.mock.calls[0][0].url).toBe('https://service.example.com/api/v1/engineer/tasks/7/files')
    expect(fieldErrors(error)).toEqual({ '': FILE_TYPE.error.message })
  })

  it('retry an upload with its key, not one without', async () => {
    vi.useFakeTimers()
    uploadAnswers('fail', { statusCode: 201, data: JSON.stringify(examples['POST /files']) })
    const keyed = uniClient().upload('/files', { filePath: 'wxfile://a.pdf' }, { idempotencyKey: 'key-2' })
    await vi.advanceTimersByTimeAsync(2000)
    await expect(keyed).resolves.toEqual(examples['POST /files'])
    expect(uniMock.uploadFile).toHaveBeenCalledTimes(2)
    expect(uniMock.uploadFile.mock.calls.map(([options]) => options.header['Idempotency-Key']))
      .toEqual(['key-2', 'key-2'])

    uploadAnswers('fail', { statusCode: 201, data: '{}' })
    const unkeyed = uniClient().upload('/files', { filePath: 'wxfile://b.pdf' }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(2000)
    expect(await unkeyed).toMatchObject({ status: 0, code: 'network' })
    expect(uniMock.uploadFile).toHaveBeenCalledTimes(3)
  })
})

describe('idempotency keys', () => {
  const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

  it('are UUID v4, each new', () => {
    const keys = new Set(Array.from({ length: 200 }, () => newIdempotencyKey()))
    expect(keys.size).toBe(200)
    for (const key of keys) expect(key).toMatch(UUID4)
  })

  it('are made with Math.random where there is no crypto', () => {
    vi.stubGlobal('crypto', undefined)
    try {
      expect(newIdempotencyKey()).toMatch(UUID4)
    } finally {
      vi.unstubAllGlobals()
      vi.stubGlobal('uni', uniMock)
    }
  })
})

describe('endpoints', () => {
  it('perform an action at its request.path, with `action` for a step', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(200, examples['GET /engineer/tasks/{order_id}']))
    const api = createApi(client(transport))
    const [visit] = examples['GET /engineer/tasks/{order_id}'].progress.actions
    await api.perform(visit as never, { appointment: '2030-05-29T10:00:00+08:00' }, 'key-3')
    const step = transport.request.mock.calls[0][0]
    expect(step.url).toBe('https://service.example.com/api/v1/engineer/tasks/1/steps')
    expect(JSON.parse(step.data!)).toEqual({ action: 'visit_onsite', appointment: '2030-05-29T10:00:00+08:00' })
    expect(step.header['Idempotency-Key']).toBe('key-3')

    const [cancel] = examples['GET /orders/{order_id}'].progress.actions
    await api.perform(cancel as never, { reason: '不需要了' })
    const sent = transport.request.mock.calls[1][0]
    expect(sent.url).toBe('https://service.example.com/api/v1/orders/1/cancel')
    expect(JSON.parse(sent.data!)).toEqual({ reason: '不需要了' })
    expect(sent.header['Idempotency-Key']).toBeUndefined()
  })

  it('wait for notifications longer than the long poll', async () => {
    const transport = fakeTransport()
    transport.request.mockResolvedValue(answer(200, examples['GET /engineer/notifications/wait']))
    await createApi(client(transport)).waitNotifications(12, 25)
    const sent = transport.request.mock.calls[0][0]
    expect(sent.url).toBe('https://service.example.com/api/v1/engineer/notifications/wait?after=12&timeout=25')
    expect(sent.timeout).toBe(40000)
  })
})
