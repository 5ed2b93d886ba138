/** The trigger Lambda: S3 object-created events → one Step Functions execution per object version. */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { S3Event } from 'aws-lambda';
import { ENV } from '../shared/contract.ts';
import { readEnv } from '../shared/env.ts';
import { createLogger } from '../shared/logger.ts';
import { type ExecutionStarter, startIngests } from './core.ts';

const env = readEnv(ENV.trigger);
const sfn = new SFNClient({});
const logger = createLogger('trigger');

/** An `ExecutionStarter` over Step Functions; the input is the request as JSON. */
export function sfnStarter(client: SFNClient, stateMachineArn: string): ExecutionStarter {
  return {
    async startExecution(name, input) {
      try {
        await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return 'started';
      } catch (error) {
        // Same name as an earlier execution: this event was delivered before (at-least-once).
        if ((error as { name?: unknown } | null)?.name === 'ExecutionAlreadyExists') return 'duplicate';
        throw error;
      }
    },
  };
}

const starter = sfnStarter(sfn, env.stateMachineArn);

/** Starts the ingest workflow for every object the event reports; throws when any record failed. */
export async function handler(event: S3Event): Promise<void> {
  // S3's s3:TestEvent (sent when notifications are configured) has no Records.
  const summary = await startIngests(event.Records ?? [], { starter, log: logger });
  logger.info('event processed', { ...summary });
}
