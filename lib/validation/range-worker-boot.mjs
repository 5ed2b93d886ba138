// Starts a range worker from TypeScript source: a worker thread does not inherit the tsx loader
// of the thread that started it, so it registers tsx itself, then loads the entry it is given.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
