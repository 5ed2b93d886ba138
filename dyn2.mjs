import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

process.removeAllListeners('warning');
process.on('uncaughtException', (e) => {
  console.log(process.argv[2], 'UNCAUGHT', e.code, e.message);
});
const s = dynalite({ createTableMs: 0, path: '/tmp/dynpath' });
await new Promise((r) => s.listen(0, '127.0.0.1', r));
const c = new DynamoDBClient({
  endpoint: `http://127.0.0.1:${s.address().port}`,
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  maxAttempts: 1,
});
try {
  console.log(process.argv[2], (await c.send(new ListTablesCommand({}))).TableNames);
} catch (e) {
  console.log(process.argv[2], 'ERR', e.name, e.message);
}
await new Promise((r) => setTimeout(r, 2000));
s.close();
