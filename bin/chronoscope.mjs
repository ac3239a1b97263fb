#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx chronoscope` works straight from a clone.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/main/cli.ts');
await main();
