// The staff UI's build: `npm run build:web` writes it to dist/web, which the API server serves at `/`.
import path from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist/web'),
    emptyOutDir: true,
  },
  // `vite dev` forwards API calls to a running `jumin start`.
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
