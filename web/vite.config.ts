// Vite: one JS chunk and one stylesheet under fixed names (web/dist/assets/app.{js,css}),
// reproducible, which the Rust binary embeds; dev and preview proxy the API at $API_URL.
import { defineConfig } from 'vite';

// The API server to proxy to in development (`npm run dev`, `npm run preview`).
const api = process.env.API_URL || 'http://127.0.0.1:18080';
const proxy = {
  '/graphql/ws': { target: api.replace(/^http/, 'ws'), ws: true },
  '/graphql': { target: api },
  '/documents': { target: api },
  '/files': { target: api },
  '/me/export': { target: api },
};
// The policy the server sends with the app's page; `npm run preview` sends it too, so the
// browser test catches anything it would block.
const csp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: false,
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/app.js',
        chunkFileNames: 'assets/app.js',
        assetFileNames: (info) =>
          (info.names?.[0] ?? info.name ?? '').endsWith('.css') ? 'assets/app.css' : 'assets/[name][extname]',
        inlineDynamicImports: true,
      },
    },
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy },
  preview: { host: '127.0.0.1', port: 5173, strictPort: true, proxy, headers: { 'Content-Security-Policy': csp } },
});
