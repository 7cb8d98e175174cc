// What the app reads at start and keeps: the client configuration (service
// phone, upload limits, WeChat templates) and the order types with their
// forms. The last answers are kept in storage, so the home page shows at
// once and is refreshed behind.
import { defineStore } from 'pinia'
import { storage, type Schemas } from '@instrument/shared'
import { api } from '@/services/api'

export type OrderType = Schemas['OrderTypeList']['items'][number]
export type ClientConfig = Schemas['ClientConfig']

const CONFIG_KEY = 'catalog.config'
const TYPES_KEY = 'catalog.order-types'

let loading: Promise<void> | null = null

export const useCatalogStore = defineStore('catalog', {
  state: () => ({
    config: storage.get<ClientConfig>(CONFIG_KEY),
    orderTypes: storage.get<Schemas['OrderTypeList']>(TYPES_KEY),
    error: '' as string,
  }),
  getters: {
    types: (state): OrderType[] => state.orderTypes?.items ?? [],
    ready: (state) => !!state.config && !!state.orderTypes,
  },
  actions: {
    typeOf(code: string): OrderType | undefined {
      return this.orderTypes?.items.find((type) => type.code === code)
    },
    /** Read both again (one load at a time); an error is kept in `error`
     * when nothing is known yet */
    refresh(): Promise<void> {
      if (!loading) {
        loading = (async () => {
          try {
            const [config, orderTypes] = await Promise.all([api.config(), api.orderTypes()])
            this.config = config
            this.orderTypes = orderTypes
            this.error = ''
            storage.set(CONFIG_KEY, config)
            storage.set(TYPES_KEY, orderTypes)
          } catch (error) {
            this.error = error instanceof Error ? error.message : String(error)
            if (!this.ready) throw error
          } finally {
            loading = null
          }
        })()
      }
      return loading
    },
    /** Known already, or read now */
    async load(): Promise<void> {
      if (this.ready) {
        void this.refresh().catch(() => undefined)
        return
      }
      await this.refresh()
    },
  },
})
