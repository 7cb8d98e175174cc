// The customer's address in the phone's map app. uni.openLocation needs
// coordinates, which an order has only once someone checked in there (the
// check-in's own coordinate system); otherwise: a map search by the address
// on H5 (AMap's URI, which opens its app when installed), the address
// copied to the clipboard on WeChat and in the app.
import type { Schemas } from '@instrument/shared'
import { platform, type Platform } from '@/utils/platform'

type Task = Schemas['OrderDetail']
type CheckIn = Schemas['CheckIn']

/** The latest check-in of the task, if any */
export function lastCheckIn(task: Task): CheckIn | null {
  let found: { id: number; checkIn: CheckIn } | null = null
  for (const step of task.progress.steps) {
    for (const record of step.records) {
      if (record.check_in && (!found || record.id > found.id)) found = { id: record.id, checkIn: record.check_in }
    }
  }
  return found?.checkIn ?? null
}

export type MapTarget =
  | { how: 'openLocation'; latitude: number; longitude: number; name: string; address: string }
  | { how: 'url'; url: string }
  | { how: 'copy'; address: string }
  | { how: 'none' }

/** How to show the task's place on this platform */
export function mapTarget(task: Task, where: Platform = platform()): MapTarget {
  const address = task.contact.address ?? ''
  const name = task.company ?? task.contact.company ?? address
  const checkIn = lastCheckIn(task)
  if (where === 'h5') {
    if (checkIn) {
      const system = checkIn.coordinate_system === 'wgs84' ? 'wgs84' : 'gaode'
      return {
        how: 'url',
        url: `https://uri.amap.com/marker?position=${checkIn.longitude},${checkIn.latitude}`
          + `&name=${encodeURIComponent(name)}&coordinate=${system}&callnative=1`,
      }
    }
    return address
      ? { how: 'url', url: `https://uri.amap.com/search?keyword=${encodeURIComponent(address)}&callnative=1` }
      : { how: 'none' }
  }
  // openLocation reads GCJ-02 on WeChat; the app's map takes what it is given
  if (checkIn && (where === 'app' || checkIn.coordinate_system === 'gcj02')) {
    return { how: 'openLocation', latitude: checkIn.latitude, longitude: checkIn.longitude, name, address }
  }
  return address ? { how: 'copy', address } : { how: 'none' }
}

/** Open the place; 'copied' when the address went to the clipboard */
export function openMap(target: MapTarget): Promise<'opened' | 'copied' | 'none'> {
  return new Promise((resolve) => {
    switch (target.how) {
      case 'openLocation':
        uni.openLocation({
          latitude: target.latitude, longitude: target.longitude, name: target.name, address: target.address,
          success: () => resolve('opened'), fail: () => resolve('none'),
        })
        return
      case 'url':
        window.open(target.url, '_blank')
        resolve('opened')
        return
      case 'copy':
        uni.setClipboardData({ data: target.address, success: () => resolve('copied'), fail: () => resolve('none') })
        return
      default:
        resolve('none')
    }
  })
}
