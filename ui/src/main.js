// The clinic UI's entry: one Vue app, its routes in router.js, its data from the API
// (api.js) and live events from one WebSocket per page (live.js).
import { createApp } from 'vue'
import App from './App.vue'
import './style.css'

createApp(App).mount('#app')
