#!/usr/bin/env node
// The package's `datalake` bin: loads the TypeScript entry point through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('./datalake.ts');
