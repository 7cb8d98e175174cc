// What the app reads at start and keeps: GET /config (upload limits and
// types, the WeChat templates of the engineers' notices) and the order
// types' names (GET /order-types, for the type filter). The last answers are
// kept in storage: known at once, offline too, refreshed behind.
import { defineStore } from 'pinia'
import { storage, type Schemas } from '@instrument/shared'
import { api } from '@/services/api'
import { i18n } from '@/locale'

const CONFIG_KEY = 'config.config'
const TYPES_KEY = 'config.order-types'

let loading: Promise<void> | null = null

export const useConfigStore = defineStore('config', {
  state: () => ({
    config: storage.get<Schemas['ClientConfig']>(CONFIG_KEY),
    orderTypes: storage.get<Schemas['OrderTypeList']>(TYPES_KEY),
  }),
  getters: {
    uploads: (state) => state.config?.uploads ?? null,
    /** [code, name in the phone's language] of each order type */
    types: (state): Array<{ code: string; name: string }> => (state.orderTypes?.items ?? []).map((type) => ({
      code: type.code,
      name: i18n.locale === 'en' ? type.name.en || type.name.zh_CN : type.name.zh_CN,
    })),
  },
  actions: {
    /** Read both again (one load at a time); what is kept stays on failure */
    load(): Promise<void> {
      if (!loading) {
        loading = (async () => {
          try {
            const [config, orderTypes] = await Promise.all([api.config(), api.orderTypes()])
            this.config = config
            this.orderTypes = orderTypes
            storage.set(CONFIG_KEY, config)
            storage.set(TYPES_KEY, orderTypes)
          } catch (error) {
            if (!this.config) throw error
          } finally {
            loading = null
          }
        })()
      }
      return loading
    },
  },
})
