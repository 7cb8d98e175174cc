// What the app reads at start and keeps: GET /config (upload limits and
// types, the WeChat templates of the engineers' notices) and the order
// types' names (GET /order-types, for the type filter). The last answers are
// kept in storage: known at once, offline too, refreshed behind.
import { defineStore } from 'pinia'
import { keptCatalog } from '@instrument/shared'
import { api } from '@/services/api'
import { i18n } from '@/locale'

const kept = keptCatalog(api, 'config')

export const useConfigStore = defineStore('config', {
  state: () => kept.kept(),
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
    async load(): Promise<void> {
      try {
        const { config, orderTypes } = await kept.fetch()
        this.config = config
        this.orderTypes = orderTypes
      } catch (error) {
        if (!this.config) throw error
      }
    },
  },
})
