/** The console API's `read` routes (lib/console/contract.ts API_ROUTES): a placeholder until the core lands. */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';

export async function handler(): Promise<APIGatewayProxyResultV2> {
  return {
    statusCode: 501,
    body: JSON.stringify({ error: { code: 'not_implemented', message: 'not built yet' } }),
  };
}
