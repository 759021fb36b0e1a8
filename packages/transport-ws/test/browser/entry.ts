// Bundled by client-browser.test.ts with esbuild (IIFE, global `Switchyard`) for the test page.
export * from '../../src/client/index.js';
