// The request layer of both apps: JSON over uni.request, uploads over
// uni.uploadFile, the token and language headers, errors as ApiError, and
// retries where they are safe (reads; writes with an Idempotency-Key).
import type { components } from './types'
import { sharedMessages } from '../i18n/messages'
import { interpolate, type ApiLanguage } from '../i18n'

export type Schemas = components['schemas']
export type FieldError = { code: string; message: string }

/** Every answer other than success, and a request that got no answer
 * (status 0, code 'network') */
export class ApiError extends Error {
  status: number
  code: string
  fields: Record<string, FieldError>
  retryAfter?: number

  constructor(
    status: number,
    code: string,
    message: string,
    fields: Record<string, FieldError> = {},
    retryAfter?: number,
  ) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
    if (retryAfter !== undefined) this.retryAfter = retryAfter
    // Keep instanceof working when compiled to ES5 classes
    Object.setPrototypeOf(this, ApiError.prototype)
  }

  get isNetwork(): boolean {
    return this.status === 0
  }
}

// What a transport answers; `data` is the body, parsed or as text
export interface TransportResponse {
  statusCode: number
  header?: Record<string, string | undefined>
  data: unknown
}

export interface TransportRequest {
  url: string
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  header: Record<string, string>
  /** The JSON text of the body */
  data?: string
  timeout?: number
}

export interface TransportUpload {
  url: string
  filePath: string
  /** The file's name (H5 sends it; WeChat names the file by its path) */
  fileName?: string
  header: Record<string, string>
  timeout?: number
  onProgress?(percent: number): void
}

/** Failure of a transport: the request got no answer */
export class TransportFailure extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TransportFailure'
    Object.setPrototypeOf(this, TransportFailure.prototype)
  }
}

/** How requests leave the app: the global `uni` by default; tests and other
 * platforms plug in their own. Both reject with TransportFailure when no
 * answer came, and resolve with any answer, whatever its status. */
export interface Transport {
  request(request: TransportRequest): Promise<TransportResponse>
  upload(upload: TransportUpload): Promise<TransportResponse>
}

export interface ClientOptions {
  /** The server's origin ('' on H5, served by the same server) */
  baseUrl: string
  token(): string | null
  language(): ApiLanguage
  /** Called on a 401 of a request other than a login: the session is over */
  onUnauthorized?(): void
  transport?: Transport
  /** The message of a network failure; the shared one in language() if not given */
  networkMessage?(): string
  /** Attempts of a retried request, the first included (3) */
  attempts?: number
  /** The first back-off in ms (500), doubled at each attempt, with jitter */
  backoff?: number
  /** A Retry-After longer than this (ms, 10000) is not waited for: the error
   * is given to the caller with its retryAfter */
  maxDelay?: number
  /** Timeout of one request in ms (uni's default when not given) */
  timeout?: number
}

export interface RequestOptions {
  /** Timeout of this request in ms (a long poll waits longer than others) */
  timeout?: number
}

export interface WriteOptions extends RequestOptions {
  /** Makes the write safe to retry: the same key on every attempt */
  idempotencyKey?: string
}

export interface UploadOptions extends WriteOptions {
  onProgress?(percent: number): void
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface Client {
  readonly baseUrl: string
  get<T>(path: string, query?: Query, options?: RequestOptions): Promise<T>
  post<T>(path: string, body?: unknown, options?: WriteOptions): Promise<T>
  put<T>(path: string, body: unknown): Promise<T>
  upload(
    path: string,
    file: { filePath: string; name?: string },
    options?: UploadOptions,
  ): Promise<Schemas['File']>
  /** The full URL of an API path */
  url(path: string, query?: Query): string
  /** The headers every request carries: token and language */
  headers(): Record<string, string>
}

export const API_PREFIX = '/api/v1'

/** "/orders" → "/api/v1/orders"; an absolute API path ("/api/v1/...") as it is */
export function apiPath(path: string): string {
  if (path === API_PREFIX || path.startsWith(API_PREFIX + '/')) return path
  return API_PREFIX + (path.startsWith('/') ? path : '/' + path)
}

export function queryString(query?: Query): string {
  if (!query) return ''
  const parts: string[] = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)))
  }
  return parts.length ? '?' + parts.join('&') : ''
}

function headerValue(
  header: Record<string, string | undefined> | undefined,
  name: string,
): string | undefined {
  if (!header) return undefined
  const wanted = name.toLowerCase()
  for (const key of Object.keys(header)) {
    if (key.toLowerCase() === wanted) return header[key]
  }
  return undefined
}

/** Retry-After in seconds (delta-seconds or an HTTP date) */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - now) / 1000))
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data
  if (data === '') return undefined
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

function isErrorBody(body: unknown): body is Schemas['Error'] {
  const error = (body as Schemas['Error'] | undefined)?.error
  return !!error && typeof error === 'object' && typeof error.code === 'string'
}

function sharedText(language: ApiLanguage, key: keyof (typeof sharedMessages)['en'], vars?: Record<string, string | number>): string {
  const table = language === 'en' ? sharedMessages.en : sharedMessages['zh-CN']
  return interpolate(table[key], vars)
}

/** The ApiError of an answer that is not a success */
export function errorOf(response: TransportResponse, language: ApiLanguage): ApiError {
  const body = parseBody(response.data)
  const retryAfter = parseRetryAfter(headerValue(response.header, 'Retry-After'))
  const status = response.statusCode
  if (isErrorBody(body)) {
    const { code, message, fields } = body.error
    return new ApiError(status, code, message, fields ?? {}, retryAfter)
  }
  // Not the API's answer (a proxy's 502, a gateway's HTML page...)
  const message = status >= 500
    ? sharedText(language, 'error.server')
    : sharedText(language, 'error.unexpected', { status })
  return new ApiError(status, 'http_' + status, message, {}, retryAfter)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A request that may be sent again gets there after the network came back
 * or the server was unavailable (busy, restarting, database lost) */
function retryable(error: ApiError): boolean {
  return error.status === 0 || error.status === 502 || error.status === 503
}

/** The transport over the global `uni` (H5, mp-weixin, app) */
export function uniTransport(): Transport {
  return {
    request({ url, method, header, data, timeout }) {
      return new Promise((resolve, reject) => {
        uni.request({
          url,
          method,
          header,
          data,
          timeout,
          // The body is parsed here, so that an error page is kept as text
          dataType: 'text',
          responseType: 'text',
          success: (res) => resolve({
            statusCode: res.statusCode,
            header: res.header as Record<string, string>,
            data: res.data,
          }),
          fail: (err) => reject(new TransportFailure(err?.errMsg ?? 'request:fail')),
        })
      })
    },
    async upload({ url, filePath, fileName, header, timeout, onProgress }) {
      const file = await namedFile(filePath, fileName)
      return new Promise((resolve, reject) => {
        const task = uni.uploadFile({
          url,
          filePath,
          ...(file ? { file } : {}),
          name: 'file',
          header,
          timeout,
          success: (res) => resolve({ statusCode: res.statusCode, data: res.data }),
          fail: (err) => reject(new TransportFailure(err?.errMsg ?? 'uploadFile:fail')),
        } as UniApp.UploadFileOption) as unknown as UniApp.UploadTask | undefined
        if (onProgress && task && typeof task.onProgressUpdate === 'function') {
          task.onProgressUpdate((update) => onProgress(update.progress))
        }
      })
    },
  }
}

/** On H5 the browser sends a blob URL's file as "blob" or "file-<time>": give
 * it its name, so the server keeps it (documents are listed by name) */
async function namedFile(filePath: string, fileName?: string): Promise<File | undefined> {
  if (!fileName || !filePath.startsWith('blob:') || typeof File === 'undefined'
      || typeof fetch === 'undefined') {
    return undefined
  }
  try {
    const blob = await (await fetch(filePath)).blob()
    return new File([blob], fileName, { type: blob.type })
  } catch {
    return undefined
  }
}

let current: Client | null = null

/** The client the app created last (createClient): the shared components
 * download files with it unless they are given one */
export function currentClient(): Client {
  if (!current) throw new Error('createClient() has not been called')
  return current
}

export function createClient(options: ClientOptions): Client {
  const transport = options.transport ?? uniTransport()
  const attempts = Math.max(1, options.attempts ?? 3)
  const backoff = options.backoff ?? 500
  const maxDelay = options.maxDelay ?? 10000
  const baseUrl = options.baseUrl.replace(/\/+$/, '')

  function url(path: string, query?: Query): string {
    return baseUrl + apiPath(path) + queryString(query)
  }

  function headers(): Record<string, string> {
    const header: Record<string, string> = { 'Accept-Language': options.language() }
    const token = options.token()
    if (token) header.Authorization = 'Bearer ' + token
    return header
  }

  function networkError(): ApiError {
    const message = options.networkMessage
      ? options.networkMessage()
      : sharedText(options.language(), 'error.network')
    return new ApiError(0, 'network', message)
  }

  /** The back-off before attempt n+1 (n from 1): Retry-After when the server
   * said it, else backoff·2^(n-1), each with ±50 % jitter so that phones
   * back online together do not come back together */
  function delay(attempt: number, error: ApiError): number {
    const base = error.retryAfter !== undefined
      ? error.retryAfter * 1000
      : backoff * 2 ** (attempt - 1)
    return base * (0.5 + Math.random())
  }

  /** Send until success, a final error or the last attempt; retry only
   * when `retry` (reads, keyed writes) */
  async function send(
    path: string,
    attempt: () => Promise<TransportResponse>,
    retry: boolean,
  ): Promise<unknown> {
    for (let n = 1; ; n++) {
      let error: ApiError
      try {
        const response = await attempt()
        if (response.statusCode >= 200 && response.statusCode < 300) {
          return parseBody(response.data)
        }
        error = errorOf(response, options.language())
      } catch (failure) {
        if (failure instanceof ApiError) throw failure
        error = networkError()
      }
      if (error.status === 401 && !apiPath(path).startsWith(API_PREFIX + '/auth/')) {
        // A login's 401 is a wrong password or code, not the end of a session
        options.onUnauthorized?.()
      }
      if (!retry || n >= attempts || !retryable(error)
          || (error.retryAfter ?? 0) * 1000 > maxDelay) {
        throw error
      }
      await sleep(delay(n, error))
    }
  }

  function json(
    method: TransportRequest['method'],
    path: string,
    body: unknown,
    query: Query | undefined,
    requestOptions: WriteOptions | undefined,
  ): Promise<unknown> {
    const idempotencyKey = requestOptions?.idempotencyKey
    const timeout = requestOptions?.timeout ?? options.timeout
    const retry = method === 'GET' || !!idempotencyKey
    return send(path, () => {
      const header = headers()
      if (idempotencyKey) header['Idempotency-Key'] = idempotencyKey
      let data: string | undefined
      if (body !== undefined) {
        header['Content-Type'] = 'application/json'
        data = JSON.stringify(body)
      }
      return transport.request({
        url: url(path, query), method, header, data, timeout,
      })
    }, retry)
  }

  const client: Client = {
    baseUrl,
    url,
    headers,
    get<T>(path: string, query?: Query, requestOptions?: RequestOptions) {
      return json('GET', path, undefined, query, requestOptions) as Promise<T>
    },
    post<T>(path: string, body?: unknown, writeOptions?: WriteOptions) {
      return json('POST', path, body, undefined, writeOptions) as Promise<T>
    },
    put<T>(path: string, body: unknown) {
      return json('PUT', path, body, undefined, undefined) as Promise<T>
    },
    upload(path, file, uploadOptions) {
      const key = uploadOptions?.idempotencyKey
      return send(path, () => {
        const header = headers()
        if (key) header['Idempotency-Key'] = key
        return transport.upload({
          url: url(path),
          filePath: file.filePath,
          fileName: file.name,
          header,
          timeout: options.timeout,
          onProgress: uploadOptions?.onProgress,
        })
      }, !!key) as Promise<Schemas['File']>
    },
  }
  current = client
  return client
}

/** A UUID v4, the Idempotency-Key of a write: crypto.getRandomValues where
 * there is one (H5, recent WeChat), else Math.random */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16)
  const crypto = (globalThis as { crypto?: { getRandomValues?(array: Uint8Array): Uint8Array } }).crypto
  if (crypto && typeof crypto.getRandomValues === 'function') {
    crypto.getRandomValues(bytes)
  } else {
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The errors of a form: path → message (contact.phone, lines[0].quantity);
 * an error that names no field under '' (its message), a network failure too */
export function fieldErrors(error: unknown): Record<string, string> {
  if (error instanceof ApiError) {
    const result: Record<string, string> = {}
    for (const [path, field] of Object.entries(error.fields)) {
      result[path] = field.message
    }
    if (!Object.keys(result).length) result[''] = error.message
    return result
  }
  if (error instanceof Error) return { '': error.message }
  return error === undefined || error === null ? {} : { '': String(error) }
}
