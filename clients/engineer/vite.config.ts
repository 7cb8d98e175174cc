import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'
import { pwa } from './pwa/plugin'

// H5 routes in hash mode under base "./": served at /engineer/ by trytond
// (or at any prefix) with no server set-up; the H5 build is installable
// (manifest.webmanifest, sw.js: pwa/)
export default defineConfig({
  base: './',
  plugins: [uni(), pwa()],
  css: {
    preprocessorOptions: {
      scss: {
        silenceDeprecations: ['legacy-js-api', 'import', 'global-builtin'],
      },
    },
  },
})
