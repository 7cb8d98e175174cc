// Times in Asia/Shanghai whatever the phone's zone; the day and week views
// of the appointments; the address in the map app of each platform.
import { describe, expect, it } from 'vitest'
import type { Schemas } from '@instrument/shared'
import { appointments, onDay, unscheduled, week } from '@/composables/schedule'
import { mapTarget } from '@/composables/address'
import { addDays, instantToPicked, pickedISO, pickedInstant, shanghaiDay, shanghaiISO, weekDays } from '@/utils/time'

type Summary = Schemas['OrderSummary']
const task = (id: number, appointment: string | null, state: Summary['state'] = 'in_progress') =>
  ({ id, appointment, state, name: `task ${id}` }) as Summary

describe('Shanghai times', () => {
  it('writes an instant as +08:00', () => {
    expect(shanghaiISO(Date.parse('2026-12-04T20:30:05Z'))).toBe('2026-12-05T04:30:05+08:00')
    expect(shanghaiDay(Date.parse('2026-12-04T16:00:00Z'))).toBe('2026-12-05')
  })

  it('takes a picker’s wall clock as Shanghai’s, both ways', () => {
    const picked = new Date(2031, 4, 29, 10, 0).getTime()
    expect(pickedISO(picked)).toBe('2031-05-29T10:00:00+08:00')
    expect(pickedInstant(picked)).toBe(Date.parse('2031-05-29T02:00:00Z'))
    expect(pickedISO(instantToPicked(Date.parse('2026-12-05T11:42:19+08:00')))).toBe('2026-12-05T11:42:00+08:00')
  })

  it('gives the week of a day, Monday first', () => {
    expect(weekDays('2026-12-05')).toEqual(['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06'])
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
  })
})

describe('the appointments', () => {
  const tasks = [
    task(1, '2026-12-05T14:00:00+08:00'), task(2, '2026-12-05T09:30:00+08:00'), task(3, '2026-12-07T10:00:00+08:00'),
    task(4, null), task(5, '2026-12-05T08:00:00+08:00', 'done'),
  ]

  it('shows a day in the order of the time, the tasks in progress only', () => {
    expect(onDay(tasks, '2026-12-05').map((each) => each.id)).toEqual([2, 1])
    expect(appointments(tasks).map((each) => each.id)).toEqual([2, 1, 3])
    expect(unscheduled(tasks).map((each) => each.id)).toEqual([4])
  })

  it('shows a week day by day', () => {
    const days = week(tasks, '2026-12-05')
    expect(days.map((day) => day.tasks.map((each) => each.id))).toEqual([[], [], [], [], [], [2, 1], []])
    expect(week(tasks, '2026-12-07')[0]).toEqual({ day: '2026-12-07', tasks: [tasks[2]] })
  })
})

describe('the address in a map app', () => {
  const order = (checkIn: Record<string, unknown> | null) => ({
    company: '上海联科', contact: { address: '上海市浦东新区蔡伦路88号', company: '上海联科' },
    progress: { steps: [{ records: checkIn ? [{ id: 3, check_in: checkIn }] : [] }] },
  }) as unknown as Schemas['OrderDetail']

  it('H5: a map search by the address, or the check-in’s point in its coordinate system', () => {
    expect(mapTarget(order(null), 'h5')).toEqual({
      how: 'url', url: 'https://uri.amap.com/search?keyword=%E4%B8%8A%E6%B5%B7%E5%B8%82%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA%E8%94%A1%E4%BC%A6%E8%B7%AF88%E5%8F%B7&callnative=1',
    })
    const target = mapTarget(order({ latitude: 31.2, longitude: 121.6, coordinate_system: 'wgs84' }), 'h5')
    expect(target).toMatchObject({ how: 'url' })
    expect((target as { url: string }).url).toContain('position=121.6,31.2')
    expect((target as { url: string }).url).toContain('coordinate=wgs84')
  })

  it('WeChat: openLocation with GCJ-02 coordinates, else the address copied', () => {
    expect(mapTarget(order({ latitude: 31.2, longitude: 121.6, coordinate_system: 'gcj02' }), 'mp-weixin'))
      .toEqual({ how: 'openLocation', latitude: 31.2, longitude: 121.6, name: '上海联科', address: '上海市浦东新区蔡伦路88号' })
    // A browser's WGS-84 point would be off by hundreds of metres on WeChat's map
    expect(mapTarget(order({ latitude: 31.2, longitude: 121.6, coordinate_system: 'wgs84' }), 'mp-weixin'))
      .toEqual({ how: 'copy', address: '上海市浦东新区蔡伦路88号' })
    expect(mapTarget(order(null), 'app')).toEqual({ how: 'copy', address: '上海市浦东新区蔡伦路88号' })
  })
})
