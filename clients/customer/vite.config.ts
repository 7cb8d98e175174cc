import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'

// H5 routes in hash mode under base "./": served at /h5/ by trytond (or at any
// prefix) with no server set-up
export default defineConfig({
  base: './',
  plugins: [uni()],
  css: {
    preprocessorOptions: {
      scss: {
        silenceDeprecations: ['legacy-js-api', 'import', 'global-builtin'],
      },
    },
  },
})
