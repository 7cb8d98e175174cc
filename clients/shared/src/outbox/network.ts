// Whether the phone has a network, and when it comes back: uni's network
// events (WeChat, app, H5) and the browser's online/offline events (H5).

type NetworkStatus = { isConnected: boolean }
type UniNetwork = {
  onNetworkStatusChange?(callback: (status: NetworkStatus) => void): void
  offNetworkStatusChange?(callback: (status: NetworkStatus) => void): void
  getNetworkType?(options: { success?(result: { networkType: string }): void }): void
}

function uniNetwork(): UniNetwork | undefined {
  return typeof uni === 'undefined' ? undefined : (uni as unknown as UniNetwork)
}

let known: boolean | undefined

/** What the platform last said: true until it says otherwise */
export function networkOnline(): boolean {
  if (known !== undefined) return known
  if (typeof navigator !== 'undefined' && typeof navigator.onLine === 'boolean') {
    return navigator.onLine
  }
  return true
}

/** Calls `listener` with each change of the network (true: connected);
 * returns the function that stops listening */
export function watchNetwork(listener: (online: boolean) => void): () => void {
  const network = uniNetwork()
  const onStatus = (status: NetworkStatus) => {
    known = !!status.isConnected
    listener(known)
  }
  const onOnline = () => onStatus({ isConnected: true })
  const onOffline = () => onStatus({ isConnected: false })
  try {
    network?.onNetworkStatusChange?.(onStatus)
    // The present state: the events say only what changes
    network?.getNetworkType?.({
      success: ({ networkType }) => { known = networkType !== 'none' },
    })
  } catch {
    // Not on this platform
  }
  const target = typeof window !== 'undefined' && typeof window.addEventListener === 'function'
    ? window : undefined
  target?.addEventListener('online', onOnline)
  target?.addEventListener('offline', onOffline)
  return () => {
    try {
      network?.offNetworkStatusChange?.(onStatus)
    } catch {
      // Older platforms cannot stop listening: the listener stays harmless
    }
    target?.removeEventListener('online', onOnline)
    target?.removeEventListener('offline', onOffline)
  }
}
