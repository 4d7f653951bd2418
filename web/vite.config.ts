/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Node's, as far as this file reads it (no @types/node for one line).
declare const process: { env: Record<string, string | undefined> };

// Where the dev server (and `vite preview`) sends /api/<path>: MRMRTHON_API is the API's
// base URL, the prefix included, as `make dev` prints it. The gateway's is
// http://127.0.0.1:3000/api (the default); a bare API without the prefix works too, e.g.
// MRMRTHON_API=http://127.0.0.1:3200 (then /api is stripped, as the gateway does).
const api = new URL(process.env.MRMRTHON_API ?? "http://127.0.0.1:3000/api");
const apiPrefix = api.pathname.replace(/\/+$/, "");

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
        target: api.origin,
        changeOrigin: true,
        rewrite: (path) => apiPrefix + path.replace(/^\/api/, ""),
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
