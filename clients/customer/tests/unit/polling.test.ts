// The order's page reads the order again every 15 s while it is shown, at
// once when it comes back to the front, and not while it is hidden
import { afterEach, describe, expect, it, vi } from 'vitest'

const hooks = vi.hoisted(() => ({} as Record<string, () => void>))
vi.mock('@dcloudio/uni-app', () => ({
  onShow: (hook: () => void) => { hooks.show = hook },
  onHide: (hook: () => void) => { hooks.hide = hook },
  onUnload: (hook: () => void) => { hooks.unload = hook },
}))

import { REFRESH_MS, usePolling } from '@/composables/usePolling'

afterEach(() => {
  vi.useRealTimers()
})

describe('refreshing a page', () => {
  it('reads on show, every 15 s while shown, never while hidden', async () => {
    vi.useFakeTimers()
    const refresh = vi.fn().mockResolvedValue(undefined)
    usePolling(refresh)
    expect(REFRESH_MS).toBe(15000)
    expect(refresh).not.toHaveBeenCalled()
    hooks.show()
    expect(refresh).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 2)
    expect(refresh).toHaveBeenCalledTimes(3)
    hooks.hide()
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 4)
    expect(refresh).toHaveBeenCalledTimes(3)
    // The app comes back to the front
    hooks.show()
    expect(refresh).toHaveBeenCalledTimes(4)
    hooks.unload()
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 2)
    expect(refresh).toHaveBeenCalledTimes(4)
  })

  it('does not read twice at once when an answer is slow', async () => {
    vi.useFakeTimers()
    let finish: () => void = () => undefined
    const refresh = vi.fn().mockImplementation(() => new Promise<void>((resolve) => { finish = resolve }))
    usePolling(refresh)
    hooks.show()
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3)
    expect(refresh).toHaveBeenCalledTimes(1)
    finish()
    await vi.advanceTimersByTimeAsync(REFRESH_MS)
    expect(refresh).toHaveBeenCalledTimes(2)
    hooks.unload()
  })
})
