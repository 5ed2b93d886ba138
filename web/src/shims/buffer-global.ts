/** Injected by esbuild so the core's global `Buffer` is the `buffer` package's in the browser. */
export { Buffer } from 'buffer';
