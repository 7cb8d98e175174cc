// The countdown of an offer to its answer_by: hours and minutes, then
// minutes and seconds, red under 5 minutes, then past; one clock for all.
import { describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick } from 'vue'
import { mount } from '@vue/test-utils'
import { countdown, remainingMs, useClock } from '@/composables/useCountdown'
import { createI18n } from '@instrument/shared'
import { messages, t } from '@/locale'

const ANSWER_BY = '2026-12-05T10:52:54+08:00'
const at = (iso: string) => Date.parse(iso)

describe('the time left to answer', () => {
  it('counts down to answer_by, whatever the phone’s time zone', () => {
    expect(remainingMs(ANSWER_BY, at('2026-12-05T02:22:54Z'))).toBe(30 * 60 * 1000)
    expect(remainingMs(null, Date.now())).toBeNull()
  })

  it('says hours and minutes, then minutes and seconds, then that it is past', () => {
    expect(countdown(ANSWER_BY, at('2026-12-05T08:50:00+08:00'), t))
      .toEqual({ state: 'running', urgent: false, text: '剩余 2小时02分 可接单' })
    expect(countdown(ANSWER_BY, at('2026-12-05T10:22:54+08:00'), t))
      .toEqual({ state: 'running', urgent: false, text: '剩余 30分00秒 可接单' })
    expect(countdown(ANSWER_BY, at('2026-12-05T10:48:45.500+08:00'), t))
      .toEqual({ state: 'running', urgent: true, text: '剩余 04分09秒 可接单' })
    expect(countdown(ANSWER_BY, at('2026-12-05T10:52:54+08:00'), t))
      .toEqual({ state: 'overdue', urgent: true, text: '已过接单时限，仍可接单' })
    expect(countdown(null, Date.now(), t).state).toBe('none')
  })

  it('speaks English', () => {
    const english = createI18n(messages, 'en')
    expect(countdown(ANSWER_BY, at('2026-12-05T08:50:00+08:00'), english.t).text).toBe('2 h 02 min left to accept')
    createI18n(messages, 'zh-CN')
  })

  it('ticks every second while shown, and stops when nothing shows it', async () => {
    vi.useFakeTimers()
    vi.setSystemTime(at('2026-12-05T10:22:54+08:00'))
    const Shown = defineComponent({
      setup() {
        const now = useClock()
        return () => h('span', countdown(ANSWER_BY, now.value, t).text)
      },
    })
    const wrapper = mount(Shown)
    expect(wrapper.text()).toBe('剩余 30分00秒 可接单')
    await vi.advanceTimersByTimeAsync(61000)
    await nextTick()
    expect(wrapper.text()).toBe('剩余 28分59秒 可接单')
    wrapper.unmount()
    expect(vi.getTimerCount()).toBe(0)
    vi.useRealTimers()
  })
})
