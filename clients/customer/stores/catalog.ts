// What the app reads at start and keeps: the client configuration (service
// phone, upload limits, WeChat templates) and the order types with their
// forms. The last answers are kept in storage, so the home page shows at
// once and is refreshed behind.
import { defineStore } from 'pinia'
import { keptCatalog, type Schemas } from '@instrument/shared'
import { api } from '@/services/api'

export type OrderType = Schemas['OrderTypeList']['items'][number]
export type ClientConfig = Schemas['ClientConfig']

const kept = keptCatalog(api, 'catalog')

export const useCatalogStore = defineStore('catalog', {
  state: () => ({ ...kept.kept(), error: '' as string }),
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
    async refresh(): Promise<void> {
      try {
        const { config, orderTypes } = await kept.fetch()
        this.config = config
        this.orderTypes = orderTypes
        this.error = ''
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error)
        if (!this.ready) throw error
      }
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
