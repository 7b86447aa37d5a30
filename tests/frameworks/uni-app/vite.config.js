import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'
import wxSession from 'wx-session/vite'
// https://vitejs.dev/config/
export default defineConfig({
  plugins: [
    uni(),
    wxSession(),
  ],
})
