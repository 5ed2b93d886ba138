/** The part of s3rver 3.7 (no types of its own) the local runtime uses. */
declare module 's3rver' {
  import type { EventEmitter } from 'node:events';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /**
   * An S3 event notification record as s3rver emits it (keys are not URL-encoded). Its copy events
   * have no `eTag`: `startLocalS3` fills it in before any listener of its own sees the record.
   */
  interface S3rverEvent {
    Records: {
      eventName: string;
      eventTime: string;
      s3: {
        bucket: { name: string };
        object: { key: string; size: number; eTag: string; versionId?: string };
      };
    }[];
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: S3rverEvent) => void): this;
  }
  export default S3rver;
  export type { S3rverEvent, S3rverOptions };
}

/** s3rver's object model, which its controllers expect from the store's `getObject`. */
declare module 's3rver/lib/models/object.js' {
  import type { Readable } from 'node:stream';

  export default class S3Object {
    constructor(bucket: string, key: string, content: Readable | null, metadata: Record<string, unknown>);
    content: Readable | null;
    range?: { start: number; end: number };
  }
}
