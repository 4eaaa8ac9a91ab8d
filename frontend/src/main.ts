import { createPinia } from 'pinia'
import { createApp } from 'vue'

// Function-style Arco APIs (Message, Modal.confirm, Notification) are not seen by the on-demand
// resolver, so their styles are imported here.
import '@arco-design/web-vue/es/message/style/css.js'
import '@arco-design/web-vue/es/modal/style/css.js'
import '@arco-design/web-vue/es/notification/style/css.js'
import './assets/global.css'

import { configureHttp } from '@/api/http'
import { currentLocale, setLocale } from '@/locale'
import { createAppRouter } from '@/router'
import { useAuthStore } from '@/stores/auth'

import App from './App.vue'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
const router = createAppRouter()
app.use(router)

setLocale(currentLocale.value)

const auth = useAuthStore(pinia)
configureHttp({
  getToken: () => auth.token,
  onUnauthorized: (error) => {
    if (!auth.token) return
    auth.logout(error.message)
    const here = router.currentRoute.value
    if (here.name !== 'login') {
      void router.replace({ name: 'login', query: { redirect: here.fullPath } })
    }
  },
})

app.mount('#app')
