/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Node's, as far as this file reads it (no @types/node for one line).
declare const process: { env: Record<string, string | undefined> };

// The API the dev server forwards /api to, with the prefix stripped as the gateway and
// CloudFront do (CONTRACT: /api/<path> -> <path>).
const api = process.env.MRMRTHON_API ?? "http://127.0.0.1:3000";

// The site's headers (CONTRACT of issue 19), so `vite preview` of dist/ runs under the
// same CSP as the gateway and CloudFront serve it with.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

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
  preview: {
    host: "127.0.0.1",
    headers: {
      "Content-Security-Policy": CSP,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "strict-origin-when-cross-origin",
      "X-Frame-Options": "DENY",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
