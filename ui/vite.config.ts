/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

/** A chunk per family of libraries: what changes together is cached (and read) together. */
const VENDOR_CHUNKS: [string, string[]][] = [
  ["react", ["react", "react-dom", "scheduler"]],
  ["router", ["react-router"]],
  ["query", ["@tanstack"]],
  ["forms", ["react-hook-form", "@hookform", "zod"]],
  ["i18n", ["i18next", "react-i18next", "html-parse-stringify", "void-elements"]],
  ["tauri", ["@tauri-apps"]],
];

// Tauri expects a fixed dev port and must see its own error output.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**"] },
  },
  envPrefix: ["VITE_", "TAURI_"],
  build: {
    target: "es2021",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // Vite's default warning limit (500 kB) holds: the vendor libraries each have a chunk of
    // their own, and every area but the start page (patients) is loaded when first opened
    // (`lazy` routes in src/areas/index.tsx).
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: VENDOR_CHUNKS.map(([name, packages]) => ({
            name,
            test: new RegExp(`[\\/]node_modules[\\/](${packages.join("|")})[\\/]`),
          })),
        },
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
