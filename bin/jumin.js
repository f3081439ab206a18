#!/usr/bin/env node
// The `jumin` command. Runs the TypeScript sources through tsx's loader, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
try {
  await main(process.argv);
} catch (e) {
  // Configuration and start-up errors carry no personal data; print them plainly.
  console.error(`jumin: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
