// The app's one session. Pages import it: in uni-app `this` is the Vue instance and getApp() is not
// where a session created in App.vue's onLaunch ends up.
import { createSession } from 'wx-session'

export const session = createSession({ baseUrl: 'https://api.example.com' })
