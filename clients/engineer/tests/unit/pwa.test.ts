// The H5 build is installable and opens offline: the web manifest (name,
// icons 192 and 512, standalone, theme colour) and the service worker
// written beside index.html with this build's files; the worker keeps the
// shell, serves hashed files from the cache first, the page from the
// network first and from the cache when the network fails.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { pwa } from '../../pwa/plugin'

const ROOT = path.join(__dirname, '../..')
const SCOPE = 'https://service.example.com/engineer/'

/** What the plugin writes for a bundle of these files */
function build(files: string[], platform = 'h5'): Record<string, string> {
  const emitted: Record<string, string> = {}
  const previous = process.env.UNI_PLATFORM
  process.env.UNI_PLATFORM = platform
  process.env.UNI_INPUT_DIR = ROOT
  const plugin = pwa() as unknown as { generateBundle(this: unknown, options: unknown, bundle: Record<string, unknown>): void }
  plugin.generateBundle.call({ emitFile: (file: { fileName: string; source: string }) => { emitted[file.fileName] = file.source } },
    {}, Object.fromEntries(files.map((name) => [name, {}])))
  process.env.UNI_PLATFORM = previous
  return emitted
}

describe('the manifest', () => {
  it('makes the app installable: name, icons 192 and 512, standalone, theme colour', () => {
    const manifest = JSON.parse(build(['index.html'])['manifest.webmanifest'])
    expect(manifest).toMatchObject({ name: '仪器服务 · 工程师', short_name: '工程师', display: 'standalone', start_url: './', scope: './' })
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i)
    const sizes = manifest.icons.map((icon: { sizes: string }) => icon.sizes)
    expect(sizes).toEqual(expect.arrayContaining(['192x192', '512x512']))
    for (const icon of manifest.icons) {
      const file = path.join(ROOT, icon.src)
      expect(existsSync(file), icon.src).toBe(true)
      // PNG of the size said
      const png = readFileSync(file)
      expect(png.subarray(1, 4).toString()).toBe('PNG')
      expect(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`).toBe(icon.sizes)
    }
  })

  it('is for H5 only', () => {
    expect(build(['index.html'], 'mp-weixin')).toEqual({})
  })
})

// ---- the service worker, run against fake caches and network -------------

type Listener = (event: { request?: Request; respondWith?(response: Promise<Response>): void; waitUntil(promise: Promise<unknown>): void }) => void

function worker(files: string[]) {
  const source = build(files)['sw.js']
  const stores = new Map<string, Map<string, Response>>()
  const keyOf = (request: Request | string) => {
    const url = typeof request === 'string' ? new URL(request, SCOPE).href : request.url
    return url.split('?')[0]
  }
  const caches = {
    async open(name: string) {
      if (!stores.has(name)) stores.set(name, new Map())
      const store = stores.get(name)!
      return {
        async addAll(requests: Request[]) {
          for (const request of requests) store.set(keyOf(request), new Response('kept ' + keyOf(request)))
        },
        async put(request: Request | string, response: Response) { store.set(keyOf(request), response) },
        async match(request: Request | string) { return store.get(keyOf(request))?.clone() },
      }
    },
    async keys() { return [...stores.keys()] },
    async delete(name: string) { return stores.delete(name) },
  }
  const listeners: Record<string, Listener> = {}
  const network = { online: true, served: [] as string[] }
  const fetcher = vi.fn(async (request: Request) => {
    network.served.push(request.url)
    if (!network.online) throw new TypeError('Failed to fetch')
    return new Response('fresh ' + request.url)
  })
  const self = {
    registration: { scope: SCOPE },
    clients: { claim: vi.fn() },
    skipWaiting: vi.fn(),
    addEventListener: (type: string, listener: Listener) => { listeners[type] = listener },
  }
  // Relative URLs of the worker are the worker's (/engineer/sw.js)
  class WorkerRequest extends Request {
    constructor(input: RequestInfo, init?: RequestInit) {
      super(typeof input === 'string' ? new URL(input, SCOPE).href : input, init)
    }
  }
  new Function('self', 'caches', 'fetch', 'Request', source)(self, caches, fetcher, WorkerRequest)

  async function lifecycle(type: 'install' | 'activate') {
    const waits: Promise<unknown>[] = []
    listeners[type]({ waitUntil: (promise) => waits.push(promise) })
    await Promise.all(waits)
  }

  /** What the worker answers for a GET (undefined: left to the browser) */
  async function get(url: string, mode: RequestMode = 'no-cors'): Promise<string | undefined> {
    const request = new Request(url)
    Object.defineProperty(request, 'mode', { value: mode })
    let answer: Promise<Response> | undefined
    listeners.fetch({ request, respondWith: (response) => { answer = response }, waitUntil: () => undefined })
    return answer ? (await answer).text() : undefined
  }

  return { stores, network, lifecycle, get, self }
}

describe('the service worker', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const files = ['index.html', 'assets/index-BZsmJd7n.js', 'assets/index-BBh0buoU.css', 'assets/task-detail-detail.D9H2dzH1.js']

  it('keeps the shell of this build at install, and forgets the older builds', async () => {
    const sw = worker(files)
    sw.stores.set('engineer-shell-old', new Map())
    await sw.lifecycle('install')
    await sw.lifecycle('activate')
    const [name] = [...sw.stores.keys()]
    expect(sw.stores.size).toBe(1)
    expect(name).toMatch(/^engineer-shell-[0-9a-f]{12}$/)
    const kept = [...sw.stores.get(name)!.keys()]
    expect(kept).toEqual(expect.arrayContaining([SCOPE, SCOPE + 'assets/index-BZsmJd7n.js', SCOPE + 'assets/task-detail-detail.D9H2dzH1.js',
      SCOPE + 'static/icons/icon-192.png', SCOPE + 'static/sounds/offer.wav', SCOPE + 'manifest.webmanifest']))
    expect(kept).not.toContain(SCOPE + 'index.html')
    expect(sw.self.skipWaiting).toHaveBeenCalled()
    expect(sw.self.clients.claim).toHaveBeenCalled()
  })

  it('opens the app without network: the page kept, the hashed files from the cache', async () => {
    const sw = worker(files)
    await sw.lifecycle('install')
    sw.network.online = false
    expect(await sw.get(SCOPE, 'navigate')).toBe('kept ' + SCOPE)
    // A deep link of the app (hash routes never reach the server)
    expect(await sw.get(SCOPE + '?from=home', 'navigate')).toBe('kept ' + SCOPE)
    expect(await sw.get(SCOPE + 'assets/index-BZsmJd7n.js')).toBe('kept ' + SCOPE + 'assets/index-BZsmJd7n.js')
  })

  it('takes the page from the network first (a new build shows at once) and keeps it', async () => {
    const sw = worker(files)
    await sw.lifecycle('install')
    expect(await sw.get(SCOPE, 'navigate')).toBe('fresh ' + SCOPE)
    sw.network.online = false
    expect(await sw.get(SCOPE, 'navigate')).toBe('fresh ' + SCOPE)
  })

  it('serves hashed files from the cache without asking the network', async () => {
    const sw = worker(files)
    await sw.lifecycle('install')
    sw.network.served.length = 0
    await sw.get(SCOPE + 'assets/index-BBh0buoU.css')
    expect(sw.network.served).toEqual([])
  })

  it('leaves the API alone (outside the scope) and what is not a GET', async () => {
    const sw = worker(files)
    expect(await sw.get('https://service.example.com/api/v1/engineer/tasks')).toBeUndefined()
    expect(await sw.get(SCOPE + 'sw.js')).toBeUndefined()
  })
})
