#!/usr/bin/env node
// The `iosnet` executable: registers tsx's ESM loader so the TypeScript sources run as they are (no build
// step), then hands over to the dispatcher in main.ts. Plain JS because it runs before tsx is registered.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The project's own tsconfig, not whatever tsconfig.json the working directory happens to hold.
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('./main.ts');
