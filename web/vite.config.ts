/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Node's, as far as this file reads it (no @types/node for one line).
declare const process: { env: Record<string, string | undefined> };

// The API the dev server forwards /api to, with the prefix stripped as the gateway and
// CloudFront do (CONTRACT: /api/<path> -> <path>).
const api = process.env.MRMRTHON_API ?? "http://127.0.0.1:3000";

export default defineConfig({
  // No plugin: the JSX transform reads jsxImportSource from tsconfig.json.
  build: {
    target: "es2022",
    // One CSS file, no inline assets: the CSP allows only 'self'.
    cssCodeSplit: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/api": {
        target: api,
        changeOrigin: true,
        rewrite: (path) => path.replace(/^\/api/, ""),
      },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
