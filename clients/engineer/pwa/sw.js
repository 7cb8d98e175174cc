// The engineer app's service worker (H5, served at /engineer/sw.js, scope
// /engineer/): the app shell is kept so that a reload without network still
// opens the app, whose data then comes from its own offline cache
// (IndexedDB). Written by pwa/plugin.ts at build time: CACHE's version and
// SHELL (the files to keep) are the build's.
//   - hashed files (assets/…): cache first, they never change;
//   - the page (index.html, any navigation): network first, the cached one
//     when the network fails or is too slow;
//   - other files (static/, the manifest): the cached copy at once, brought
//     up to date behind.
// The API (/api/v1/…) is outside the scope: never touched here.
const CACHE = 'engineer-shell-__VERSION__'
const PREFIX = 'engineer-shell-'
const SHELL = __SHELL__
// A page that does not come within this time is taken from the cache
const PAGE_TIMEOUT_MS = 4000

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE)
    // cache: 'reload' bypasses the HTTP cache: the files of this build
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))
    await self.skipWaiting()
  })())
})

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name)
    }
    await self.clients.claim()
  })())
})

function within(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms)
    promise.then((value) => { clearTimeout(timer); resolve(value) },
      (error) => { clearTimeout(timer); reject(error) })
  })
}

async function page(request) {
  const cache = await caches.open(CACHE)
  const index = self.registration.scope
  const fetched = fetch(request)
  try {
    const response = await within(fetched, PAGE_TIMEOUT_MS)
    if (response.ok) await cache.put(index, response.clone())
    return response
  } catch (error) {
    const cached = await cache.match(index)
    if (cached) {
      // Keep the page up to date when the slow answer comes after all
      fetched.then((late) => late.ok && cache.put(index, late)).catch(() => undefined)
      return cached
    }
    return fetched
  }
}

async function hashed(request) {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(request, { ignoreSearch: true })
  if (cached) return cached
  const response = await fetch(request)
  if (response.ok) await cache.put(request, response.clone())
  return response
}

async function other(request) {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(request, { ignoreSearch: true })
  const fetched = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(request, response.clone())
    return response
  })
  if (cached) {
    fetched.catch(() => undefined)
    return cached
  }
  return fetched
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const scope = self.registration.scope
  if (!request.url.startsWith(scope)) return
  const path = request.url.slice(scope.length).split(/[?#]/)[0]
  if (path === 'sw.js') return
  if (request.mode === 'navigate' || path === '' || path === 'index.html') {
    event.respondWith(page(request))
  } else if (path.startsWith('assets/')) {
    event.respondWith(hashed(request))
  } else {
    event.respondWith(other(request))
  }
})
