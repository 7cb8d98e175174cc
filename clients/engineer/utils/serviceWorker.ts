// H5 only: the service worker that keeps the app shell (pwa/sw.js, written
// by the build beside index.html), so that a reload without network opens
// the app. Not in development (vite's server has no sw.js).
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return
  // Relative to the page: /engineer/sw.js, scope /engineer/
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((error) => {
    console.warn('service worker not registered', error)
  })
}
