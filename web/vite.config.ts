import { fileURLToPath } from 'node:url'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

const webRoot = fileURLToPath(new URL('.', import.meta.url))
const outDir = fileURLToPath(new URL('../dist/web', import.meta.url))
// `npm run web:dev` proxies the API to a berth server started separately (default http://127.0.0.1:8000).
const backend = process.env.BERTH_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Hashed names under assets/: the server caches them for a year.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': backend,
      '/workspace': backend,
      '/readyz': backend,
      '/login': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
})
