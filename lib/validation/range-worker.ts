/** The entry of a range worker run from source (the CLI, tests): see parallel.ts. */
import { serveRanges } from './parallel.ts';

serveRanges();
