// Builds the clinic UI into ui/dist, which hmis embeds (src/ui). The output is committed:
// `cargo run -- dev` needs no Node.js. `scripts/ui-build --check` (run in CI) rebuilds it
// and fails when the committed files differ.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  // Templates are compiled here, at build time: the page's CSP (script-src 'self', no
  // unsafe-eval) forbids Vue's in-browser compiler.
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Clinic desktops and phones a few years old: nothing newer than 2021's browsers.
    target: ['chrome87', 'firefox78', 'safari14', 'edge88'],
    sourcemap: false,
    // Every asset is a file of its own, named by its content's hash (cached for good);
    // nothing is inlined as a data: URL into the page.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` beside `cargo run -- dev`: the API is proxied to hmis.
    proxy: { '/api': { target: 'http://127.0.0.1:8000', ws: true } },
  },
})
