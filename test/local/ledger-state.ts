/**
 * Puts a ledger item back at an earlier status, as a run that died part-way (or whose last write
 * was lost) leaves it: for tests of what the reconciler does with such an item.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ATTR, type LedgerStatus, STATUS_RANK } from '../../lib/ledger/model.ts';

export async function rewindLedgerItem(
  ledger: { readonly client: DynamoDBClient; readonly tableName: string },
  key: string,
  version: string,
  status: LedgerStatus,
): Promise<void> {
  await ledger.client.send(
    new UpdateItemCommand({
      TableName: ledger.tableName,
      Key: { [ATTR.key]: { S: key }, [ATTR.version]: { S: version } },
      UpdateExpression: 'SET #status = :status, #rank = :rank REMOVE #curatedAt, #rejectedAt',
      ExpressionAttributeNames: {
        '#status': ATTR.status,
        '#rank': ATTR.rank,
        '#curatedAt': ATTR.curatedAt,
        '#rejectedAt': ATTR.rejectedAt,
      },
      ExpressionAttributeValues: { ':status': { S: status }, ':rank': { N: String(STATUS_RANK[status]) } },
    }),
  );
}
