// The app's one session. Pages import it: a function component has no `this` to keep it on, and
// Taro's App is a React component, not the mini-program App object getApp() returns.
import { createSession } from 'wx-session'

export const session = createSession({ baseUrl: 'https://api.example.com' })
