/**
 * The time-travel options of `query` and the `tables` commands, as the CLI parses them: what is
 * refused before any lake or stack is touched (issue 15, item 4). Their behaviour on a lake:
 * test/local/tables-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-run.ts';

/** A lake folder that does not exist: a command that got as far as opening it would say so. */
const NO_LAKE = ['--lake', '/nonexistent/lake-for-parse-tests'];

describe('query --snapshot | --as-of | --tag', () => {
  it.each([
    [['--snapshot', '1', '--tag', 'v1'], '--snapshot and --tag each name a version: give one of them'],
    [['--as-of', '2024-01-01', '--tag', 'v1'], '--as-of and --tag each name a version: give one of them'],
    [
      ['--snapshot', 'abc'],
      '--snapshot takes a snapshot id (a whole number, as `tables history` lists them), not "abc"',
    ],
    [['--snapshot', '9223372036854775808'], 'not "9223372036854775808"'],
    [['--as-of', 'yesterday'], '--as-of takes a date (YYYY-MM-DD) or an ISO 8601 time, not "yesterday"'],
    [['--as-of', '2024-02-30'], 'not "2024-02-30"'],
    [['--tag', ' '], '--tag is empty'],
  ])('%j is a usage error', async (options, message) => {
    const run = await runCli(['query', 'SELECT 1', ...options, ...NO_LAKE]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect(run.err).toContain('usage: datalake query');
  });

  it('the largest 64-bit snapshot id is taken (exactly: ids are strings)', async () => {
    // Parsed, then refused only because the lake does not exist.
    const run = await runCli(['query', 'SELECT 1', '--snapshot', '9223372036854775807', ...NO_LAKE]);
    expect([run.code, run.err]).toEqual([2, expect.stringContaining('no lake at /nonexistent')]);
  });

  it.each([
    [['--snapshot', '3055729675574597004'], 'FROM <database>.<table> FOR VERSION AS OF 3055729675574597004'],
    [
      ['--as-of', '2024-05-01T14:00:00+02:00'],
      "FROM <database>.<table> FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 12:00:00.000 UTC'",
    ],
    [['--as-of', '2024-05-01'], "FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 00:00:00.000 UTC'"],
    [['--tag', 'train-2024'], 'FOR VERSION AS OF <the snapshot id of tag train-2024'],
  ])('with --aws, %j is refused with the SQL Athena takes', async (options, form) => {
    // Refused before the stack is looked up: no AWS call (this machine has no credentials).
    const run = await runCli(['query', 'SELECT 1', ...options, '--aws', '--region', 'eu-west-1']);
    expect(run.code).toBe(2);
    expect(run.err).toContain('reads the local lake only: on Athena the version goes in the SQL');
    expect(run.err).toContain(form);
    expect(run.err.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});

describe('tables', () => {
  it.each([
    [[], 'tables needs a command: history, tag or compact'],
    [['list'], 'unknown tables command "list"'],
    [['history'], 'tables history needs a dataset'],
    [['history', 'orders', 'sensor_readings'], 'tables history takes one dataset, not "sensor_readings" too'],
    [['history', 'orders', '--date', '2024-01-01'], '--date does not go with tables history'],
    [['tag', 'orders'], 'tables tag needs a tag name after the dataset'],
    [['tag', 'orders', 'main'], '"main" is the table\'s branch, not a tag name: choose another'],
    [['tag', 'orders', 'v1', '--snapshot', 'x'], '--snapshot takes a snapshot id'],
    [['compact', 'orders', '--date', '2024-1-1'], '--date takes a day, YYYY-MM-DD'],
    [['compact', 'orders', '--date', '2024-02-30'], 'not "2024-02-30"'],
    [['compact', 'orders', '--date', '2024-13-45'], 'not "2024-13-45"'],
    [['compact', 'orders', '--snapshot', '1'], '--snapshot does not go with tables compact'],
  ])('%j is a usage error', async (args, message) => {
    const run = await runCli(['tables', ...args, ...NO_LAKE]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect(run.err).toContain('usage: datalake tables history');
  });

  it('compact --aws is refused: the Glue compaction optimizer compacts on AWS', async () => {
    const run = await runCli(['tables', 'compact', 'orders', '--aws', '--region', 'eu-west-1']);
    expect(run).toEqual({
      code: 2,
      out: '',
      err: 'datalake: tables compact runs on the local lake only: on AWS the Glue compaction optimizer of each table compacts it\n',
    });
  });

  it('a lake folder that holds no lake is refused, as the other lake commands refuse it', async () => {
    const run = await runCli(['tables', 'history', 'orders', ...NO_LAKE]);
    expect(run.code).toBe(2);
    expect(run.err).toContain('no lake at /nonexistent/lake-for-parse-tests');
  });

  it('--help prints the tables usage with the target options', async () => {
    const run = await runCli(['tables', '--help']);
    expect(run.code).toBe(0);
    expect(run.out).toContain('tables tag <dataset> <name> [--snapshot ID]');
    expect(run.out).toContain('TARGET: the local lake');
  });
});
