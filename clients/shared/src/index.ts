// What both apps share. The contract below is what the apps import; see
// each module for its documentation.
export * from './api/client'
export * from './api/endpoints'
export * from './api/app'
export * from './i18n'
export * from './platform'
export * from './format'
export * from './outbox'
export * from './tabBar'
export * from './catalog'
export * from './privacy'
export * from './photo'
export * from './upload'
// The components are imported by path, not from here: the mp-weixin build
// registers a component only when a page's <script setup> imports its .vue
// file (re-exported from a .ts module, it is left out of usingComponents):
//   import ProgressTimeline from '@instrument/shared/src/components/ProgressTimeline.vue'
//   import FileList from '@instrument/shared/src/components/FileList.vue'
//   import StarRating from '@instrument/shared/src/components/StarRating.vue'
//   import PrivacyPopup from '@instrument/shared/src/components/PrivacyPopup.vue'
//   import LoadState from '@instrument/shared/src/components/LoadState.vue'
//   import UploadTiles from '@instrument/shared/src/components/UploadTiles.vue'
