// Whether the phone has a network now, as the platform says it (uni's
// network events, the browser's online/offline): the banner of the pages.
import { defineStore } from 'pinia'
import { networkOnline, watchNetwork } from '@instrument/shared'

let watching = false

export const useNetworkStore = defineStore('network', {
  state: () => ({ online: networkOnline() }),
  actions: {
    watch() {
      if (watching) return
      watching = true
      watchNetwork((online) => { this.online = online })
    },
  },
})
