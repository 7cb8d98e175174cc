// What both apps share. The contract below is what the apps import; see
// each module for its documentation.
export * from './api/client'
export * from './api/endpoints'
export * from './i18n'
export * from './platform'
