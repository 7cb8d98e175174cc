// The globals of a uni-app page, stubbed (@instrument/shared/testing/uni):
// `uni` (storage over a Map, and every API the app calls as a mock), `wx`
// (the WeChat-only ones) and getCurrentPages. The platform is H5 unless a
// test sets process.env.UNI_PLATFORM = 'mp-weixin' (what uni's build sets).
import { stubUniGlobals } from '@instrument/shared/testing/uni'

export const { uniMock, wxMock, pages, storedRaw: storedValue } = stubUniGlobals({
  uni: [
    'request', 'uploadFile', 'downloadFile', 'login',
    'chooseMedia', 'chooseImage', 'chooseFile', 'compressImage', 'getImageInfo', 'getFileInfo',
    'requestSubscribeMessage', 'showToast', 'showModal', 'navigateTo', 'redirectTo', 'switchTab',
    'setNavigationBarTitle',
  ],
  wx: ['onNeedPrivacyAuthorization', 'chooseMessageFile'],
  route: 'pages/index/index',
})
