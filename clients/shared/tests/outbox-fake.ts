// A stand-in for the API's engineer writes, behind the real client (a
// Transport): task uploads, steps, accept and decline, with the API's
// Idempotency-Key rules (a retry with the same key and body answers the
// first answer with Idempotent-Replayed; another body answers 422
// idempotency_key_reused). Faults are queued per request: no answer before
// or after committing, a status with an error body, or a request that
// never ends.
import { createClient, TransportFailure, type Transport, type TransportResponse } from '../src/api/client'
import { createApi } from '../src/api/endpoints'
import type { Schemas } from '../src/api/client'

export type Fault =
  | 'ok'               // answered as it should be
  | 'network'          // no answer, nothing done
  | 'lost'             // done and committed, the answer lost on the way back
  | 'hang'             // never answers (the page dies meanwhile)
  | { status: number; code: string; message?: string; fields?: Schemas['Error']['error']['fields']; retryAfter?: number }

export interface Request {
  path: string
  key?: string
  replayed: boolean
  body?: Record<string, unknown>
  file?: { name?: string; content: string }
  outcome: 'done' | 'replayed' | 'failed'
}

type Stored = { fingerprint: string; response: TransportResponse }

export function action(name: Schemas['Action']['action'], taskId: number,
  fields: Schemas['Action']['fields'] = []): Schemas['Action'] {
  return {
    action: name, actor: 'engineer', label: name, button: name, fields,
    request: { method: 'POST', path: `/api/v1/engineer/tasks/${taskId}/steps` },
  }
}

export const PHOTOS: Schemas['EvidenceField'] = {
  name: 'photos', kind: 'images', label: '照片', required: true, min_items: 1,
}

export function fakeServer() {
  const keys = new Map<string, Stored>()
  const requests: Request[] = []
  /** Files on the phone that are not blob: URLs: path → content */
  const disk = new Map<string, string>()
  const files: { id: number; taskId: number; name: string; content: string }[] = []
  const steps: { taskId: number; body: Record<string, unknown> }[] = []
  const accepted: number[] = []
  const declined: { taskId: number; reason: string }[] = []
  const faults: Fault[] = []
  /** A fault for every request matching, as long as it is set */
  let always: ((request: Request) => Fault | undefined) | undefined
  let nextFileId = 100

  function answer(statusCode: number, body?: unknown, header: Record<string, string> = {}): TransportResponse {
    return { statusCode, header, data: body === undefined ? '' : JSON.stringify(body) }
  }

  function detail(taskId: number) {
    return { id: taskId, number: `T${taskId}`, state: 'in_progress' }
  }

  async function read(filePath: string): Promise<string> {
    if (filePath.startsWith('blob:')) {
      return await (await fetch(filePath)).text()
    }
    const content = disk.get(filePath)
    if (content === undefined) throw new TransportFailure('uploadFile:fail file not found')
    return content
  }

  /** Does the write: its answer */
  function perform(path: string, body: Record<string, unknown> | undefined,
    file: { name?: string; content: string } | undefined): TransportResponse {
    let match = path.match(/^\/api\/v1\/engineer\/tasks\/(\d+)\/files$/)
    if (match && file) {
      const record = { id: nextFileId++, taskId: Number(match[1]), name: file.name ?? 'blob', content: file.content }
      files.push(record)
      return answer(201, {
        id: record.id, name: record.name, mimetype: 'image/jpeg', size: file.content.length,
        url: `/api/v1/files/${record.id}`, thumbnail_url: null,
      })
    }
    match = path.match(/^\/api\/v1\/engineer\/tasks\/(\d+)\/steps$/)
    if (match) {
      steps.push({ taskId: Number(match[1]), body: body ?? {} })
      return answer(200, detail(Number(match[1])))
    }
    match = path.match(/^\/api\/v1\/engineer\/inbox\/(\d+)\/accept$/)
    if (match) {
      accepted.push(Number(match[1]))
      return answer(200, detail(Number(match[1])))
    }
    match = path.match(/^\/api\/v1\/engineer\/inbox\/(\d+)\/decline$/)
    if (match) {
      declined.push({ taskId: Number(match[1]), reason: String(body?.reason) })
      return answer(204)
    }
    return answer(404, { error: { code: 'not_found', message: 'No such resource' } })
  }

  async function handle(url: string, header: Record<string, string>,
    body: Record<string, unknown> | undefined, file?: { name?: string; content: string }): Promise<TransportResponse> {
    const path = new URL(url).pathname
    const key = header['Idempotency-Key']
    const request: Request = { path, key, replayed: false, body, file, outcome: 'failed' }
    requests.push(request)
    const fault = faults.shift() ?? always?.(request)
    if (fault === 'network') throw new TransportFailure('request:fail')
    if (fault === 'hang') return new Promise<TransportResponse>(() => undefined)
    if (fault && typeof fault === 'object') {
      const header: Record<string, string> = fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {}
      return answer(fault.status, {
        error: { code: fault.code, message: fault.message ?? `refused: ${fault.code}`, fields: fault.fields ?? {} },
      }, header)
    }
    const fingerprint = JSON.stringify([path, body ?? null, file ?? null])
    let response: TransportResponse
    const stored = key ? keys.get(key) : undefined
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        return answer(422, { error: { code: 'idempotency_key_reused', message: 'This Idempotency-Key was used for another request', fields: {} } })
      }
      request.replayed = true
      request.outcome = 'replayed'
      response = { ...stored.response, header: { ...stored.response.header, 'Idempotent-Replayed': 'true' } }
    } else {
      response = perform(path, body, file)
      if (key && response.statusCode < 300) keys.set(key, { fingerprint, response })
      request.outcome = response.statusCode < 300 ? 'done' : 'failed'
    }
    if (fault === 'lost') throw new TransportFailure('request:fail timeout')
    return response
  }

  const transport: Transport = {
    async request({ url, header, data }) {
      return handle(url, header, data === undefined ? undefined : JSON.parse(data))
    },
    async upload({ url, header, filePath, fileName }) {
      let content: string
      try {
        content = await read(filePath)
      } catch {
        throw new TransportFailure('uploadFile:fail')
      }
      return handle(url, header, undefined, { name: fileName, content })
    },
  }

  // One attempt a request: the retries under test are the outbox's
  const client = createClient({
    baseUrl: 'https://service.example.com', token: () => 'tok', language: () => 'en',
    transport, attempts: 1,
  })
  const api = createApi(client)

  return {
    api, transport, disk, files, steps, accepted, declined, requests, keys,
    /** Faults of the next requests, in order */
    fail(...next: Fault[]) { faults.push(...next) },
    /** A fault for every request (until set to undefined) */
    failAlways(rule: ((request: Request) => Fault | undefined) | undefined) { always = rule },
    /** The file id the server gave to the content */
    fileId(content: string) { return files.find((file) => file.content === content)?.id },
  }
}

/** Lets every pending promise of the outbox settle (no timers run) */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}
