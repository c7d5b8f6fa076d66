import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the page with hot reload and sends the API, `/live`
// and the dev sign-in to a dev server on :3000; the built page (`dist/`) is
// what `inbox-dev` serves itself.
const devServer = "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    proxy: {
      "^/(?!src/|@|node_modules/|index.html$).+": { target: devServer, ws: true },
    },
  },
});
