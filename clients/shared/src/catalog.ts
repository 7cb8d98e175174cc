// What both apps read at start and keep: GET /config (service phone, upload
// limits and types, WeChat templates) and GET /order-types. The last answers
// are kept in storage: known at once, offline too, refreshed behind.
import type { Api } from './api/endpoints'
import type { Schemas } from './api/client'
import { storage } from './platform'

export interface Catalog {
  config: Schemas['ClientConfig']
  orderTypes: Schemas['OrderTypeList']
}

/** The catalog kept under `prefix` (`<prefix>.config`, `<prefix>.order-types`) */
export function keptCatalog(api: Pick<Api, 'config' | 'orderTypes'>, prefix: string) {
  const CONFIG_KEY = `${prefix}.config`
  const TYPES_KEY = `${prefix}.order-types`
  let reading: Promise<Catalog> | null = null
  const config = () => storage.get<Schemas['ClientConfig']>(CONFIG_KEY)
  const orderTypes = () => storage.get<Schemas['OrderTypeList']>(TYPES_KEY)
  return {
    /** What was kept (null: never read) */
    config,
    orderTypes,
    /** Both kept answers (a store's state) */
    kept: (): { config: Schemas['ClientConfig'] | null; orderTypes: Schemas['OrderTypeList'] | null } =>
      ({ config: config(), orderTypes: orderTypes() }),
    /** Both read again, and kept; one read at a time (a call while one
     * runs gets its answer) */
    fetch(): Promise<Catalog> {
      reading ??= (async () => {
        try {
          const [config, orderTypes] = await Promise.all([api.config(), api.orderTypes()])
          storage.set(CONFIG_KEY, config)
          storage.set(TYPES_KEY, orderTypes)
          return { config, orderTypes }
        } finally {
          reading = null
        }
      })()
      return reading
    },
  }
}
