/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The backend serves the built bundle at /static/ and answers every non-API path with
// static/index.html, so the app's routes live at the site root while its assets live under /static/.
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // scripts/build_ui.py reads it to hold the first page load to its JavaScript budget.
    manifest: true,
  },
  css: {
    preprocessorOptions: {
      scss: {
        // Carbon's Sass is large and uses deprecated-but-valid constructs; keep the build log readable.
        quietDeps: true,
        silenceDeprecations: ["import", "global-builtin", "legacy-js-api"],
      },
    },
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
