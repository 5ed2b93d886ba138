/**
 * The CLI is predictable: every bad argument or unusable path is one line and exit 2, each
 * command has --help, values from files cannot act on the terminal, and formats that are not CSV
 * text get a hint (issue 12, item 5; adversarial findings F6, F16–F19, F21, F23–F25).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../lib/cli/failures.ts';
import { hintFor } from '../../lib/cli/file-hint.ts';
import { cellText } from '../../lib/cli/local-command.ts';
import { humanReport } from '../../lib/cli/validate-command.ts';
import { escapeControl } from '../../lib/text.ts';
import { runCli } from './cli-run.ts';

const VALID = 'test/fixtures/orders-valid.csv';

/** Runs the CLI in-process and captures what it prints. */
const run = (...argv: string[]) => runCli(argv);

const scratch = () => mkdtemp(join(tmpdir(), 'cli-predictable-'));

describe('--help and --version', () => {
  it.each([
    [['validate', '--help'], 'usage: datalake validate <file> --dataset <name>'],
    [['validate', 'x.csv', '-h'], 'usage: datalake validate <file>'],
    [['local', 'up', '--help'], 'usage: datalake local up [--lake DIR]'],
    [['local', 'ingest', '--help'], 'usage: datalake local ingest <file> --dataset <name>'],
    [['local', 'query', '--help'], 'usage: datalake local query "<SQL>"'],
    [['local', 'status', '--help'], 'usage: datalake local status'],
    [['reconcile', '--help'], 'usage: datalake reconcile [--redrive]'],
  ])('%j prints that command’s usage only, exit 0', async (argv, first) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out.startsWith(first)).toBe(true);
    // Only this command's part: not the list of every command.
    expect(out).not.toContain('commands:');
  });

  it('local --help lists the four local commands', async () => {
    const { code, out } = await run('local', '--help');
    expect(code).toBe(0);
    for (const sub of ['up', 'ingest', 'query', 'status']) expect(out).toContain(`datalake local ${sub} `);
    expect(out).not.toContain('datalake validate');
  });

  it('--help after `--` is an argument, not a request for help', async () => {
    const { code, err } = await run('local', 'query', '--', '--help', '--lake', 'x');
    expect(code).toBe(2);
    expect(err).toContain('local query takes exactly one SQL statement');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { code, out } = await run('--version');
    expect(code).toBe(0);
    expect(out).toBe(`${pkg.version}\n`);
  });

  it('a usage error prints the usage of the command it was about', async () => {
    const { code, err } = await run('local', 'ingest', VALID);
    expect(code).toBe(2);
    expect(err).toBe(
      `datalake: local ingest needs --dataset <name>\n\n${(await run('local', 'ingest', '--help')).out}`,
    );
  });
});

describe('a command stopped by a signal', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ])('validate aborted with %s: "interrupted", exit %i, no verdict', async (signal, code) => {
    const stop = new AbortController();
    stop.abort(signal);
    const result = await runCli(['validate', VALID, '--dataset', 'orders', '--json'], {
      signal: stop.signal,
    });
    expect(result).toEqual({ code, out: '', err: 'datalake: interrupted\n' });
  });
});

describe('local ingest --key: refused before anything is uploaded', () => {
  it.each([
    ['', '--key "" is empty'],
    ['/orders/lead.csv', '--key "/orders/lead.csv" starts with "/"'],
    ['orders/', '--key "orders/" ends with "/": it names a folder, not a file'],
    ['x.csv', '--key "x.csv" has no dataset folder'],
    [
      'sensor_readings/x.csv',
      '--key "sensor_readings/x.csv" is in folder "sensor_readings" but --dataset is "orders"',
    ],
    ['orders/../x.csv', '--key "orders/../x.csv" has a "." or ".." segment'],
  ])('--key %j: exit 2, and the lake folder is not created', async (key, message) => {
    const lake = join(await scratch(), 'lake');
    const { code, out, err } = await run(
      'local',
      'ingest',
      VALID,
      '--dataset',
      'orders',
      '--key',
      key,
      '--lake',
      lake,
    );
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.startsWith(`datalake: ${message}`)).toBe(true);
    expect(existsSync(lake)).toBe(false);
  });
});

describe('files that are not files', () => {
  it.each([
    [['validate', 'test/fixtures', '--dataset', 'orders']],
    [['local', 'ingest', 'test/fixtures', '--dataset', 'orders']],
  ])('%j: "is a directory", one line, exit 2', async (argv) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toBe('datalake: cannot read "test/fixtures": is a directory\n');
  });

  it('local ingest of a missing file: one line, exit 2', async () => {
    const { code, err } = await run('local', 'ingest', 'no/such.csv', '--dataset', 'orders');
    expect(code).toBe(2);
    expect(err).toBe('datalake: cannot read "no/such.csv": no such file\n');
  });
});

describe('--max-errors keeps memory bounded', () => {
  it('takes at most 10,000 (each listed error is held until the report is printed)', async () => {
    const over = await run('validate', VALID, '--dataset', 'orders', '--max-errors', '10001');
    expect(over.code).toBe(2);
    expect(over.err).toContain('datalake: --max-errors takes at most 10,000, not "10001"');
    const at = await run('validate', VALID, '--dataset', 'orders', '--max-errors', '10000');
    expect(at.code).toBe(0);
  });
});

describe('control characters from files are escaped', () => {
  it('escapeControl escapes C0 (not tab or newline), DEL, C1 and invisible format characters', () => {
    expect(escapeControl('a\x1b[31mb\x07c\x00d\x7fe\x9bf\u202eg\ufeffh\tI\nJ\rK')).toBe(
      'a\\x1b[31mb\\x07c\\x00d\\x7fe\\x9bf\\u202eg\\ufeffh\tI\nJ\\x0dK',
    );
    expect(escapeControl('plain, "quoted", é, 日本, 🙂')).toBe('plain, "quoted", é, 日本, 🙂');
  });

  it('escapeControl shows the spaces that are not U+0020, which would pass for one', () => {
    expect(escapeControl('1\u00a0000|\u1680|\u2007|\u202f|\u205f|\u3000| ')).toBe(
      '1\\xa0000|\\u1680|\\u2007|\\u202f|\\u205f|\\u3000| ',
    );
  });

  it('validate prints an escape sequence in a value as text, never raw', async () => {
    const dir = await scratch();
    const file = join(dir, 'evil\x1b]0;title\x07.csv');
    const [header, first] = (await readFile(VALID, 'utf8')).split('\n');
    await writeFile(file, `${header}\n${first!.replace('ABC-12345', '\x1b[31mRED\x1b[0m')}\n`);
    const { code, out } = await run('validate', file, '--dataset', 'orders');
    expect(code).toBe(1);
    expect(out).toContain('\\x1b[31mRED\\x1b[0m');
    expect(out).toContain('evil\\x1b]0;title\\x07.csv is invalid');
    // Nothing left that a terminal would act on: escaping again changes nothing.
    expect(escapeControl(out)).toBe(out);
  });

  it('an error line shows an invisible or control character in the bad value it names', async () => {
    const { code, err } = await run('validate', VALID, '--dataset', '\ufefford\x1brs');
    expect(code).toBe(2);
    expect(err).toBe('datalake: unknown dataset "\\ufefford\\x1brs" (known: orders, sensor_readings)\n');
  });
});

describe('a hint for files that are not CSV text', () => {
  const utf16 = (text: string, endian: 'le' | 'be') => {
    const le = Buffer.from(text, 'utf16le');
    return endian === 'le' ? le : Buffer.from(le).swap16();
  };
  it.each([
    ['a ZIP (xlsx)', Buffer.from('PK\x03\x04\x14\x00\x06\x00', 'latin1'), /ZIP archive \(xlsx files/],
    ['bzip2', Buffer.from('BZh91AY&SY', 'latin1'), /bzip2/],
    ['xz', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00]), /xz/],
    ['an old Office file', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), /xls/],
    [
      'UTF-16LE without BOM',
      utf16('order_id,Customer Name\n1,Ann', 'le'),
      /UTF-16LE .*without a byte order mark/,
    ],
    [
      'UTF-16BE without BOM',
      utf16('order_id,Customer Name\n1,Ann', 'be'),
      /UTF-16BE .*without a byte order mark/,
    ],
  ])('%s', (_name, head, hint) => {
    expect(hintFor(head)).toMatch(hint);
  });

  it.each([
    ['CSV text', Buffer.from('order_id,amount\n1,2\n')],
    [
      'UTF-16LE with its BOM (the validator reads it)',
      Buffer.concat([Buffer.from([0xff, 0xfe]), utf16('a,b\n', 'le')]),
    ],
    ['gzip (the lake reads it)', Buffer.from([0x1f, 0x8b, 0x08, 0x00])],
    ['one character', Buffer.from('a\0')],
  ])('none for %s', (_name, head) => {
    expect(hintFor(head)).toBeUndefined();
  });

  it('validate of a ZIP renamed .csv says what it is on stderr, after the verdict', async () => {
    const file = join(await scratch(), 'orders.csv');
    await writeFile(file, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 7)]));
    const { code, out, err } = await run('validate', file, '--dataset', 'orders');
    expect(code).toBe(1);
    expect(out).toMatch(/^✗ orders\.csv is invalid/);
    expect(err).toBe(
      'datalake: hint: this looks like a ZIP archive (xlsx files are ZIP archives): export it as CSV, or unzip it\n',
    );
  });
});

describe('query values in the table', () => {
  it('SQL NULL and the text NULL differ; -0 keeps its sign', () => {
    expect(cellText(null)).toBe('NULL');
    expect(cellText('NULL')).toBe("'NULL'");
    expect(cellText(-0)).toBe('-0');
    expect(cellText(0)).toBe('0');
    expect(cellText('')).toBe('');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
  });
});

describe('failures are one line with the code of their kind', () => {
  const system = (code: string, fields: Record<string, unknown>) =>
    Object.assign(new Error(`${code}: raw message`), { code, ...fields });

  it.each([
    [
      system('EADDRINUSE', { address: '127.0.0.1', port: 8080 }),
      'the port is already in use (127.0.0.1:8080)',
    ],
    [system('EACCES', { path: '/lake/server.json' }), 'permission denied (/lake/server.json)'],
    [system('EROFS', { path: '/ro/lake/s3' }), 'the file system is read-only (/ro/lake/s3)'],
    [system('ENOTDIR', { path: '/x/file.csv/s3' }), 'not a directory (/x/file.csv/s3)'],
    [system('ENOSPC', {}), 'no space left on the device'],
  ])('%s → exit 2', (error, text) => {
    expect(describeFailure(error)).toEqual({ text: `datalake: ${text}\n`, code: 2 });
  });

  it('an S3 error of a damaged lake names the service error, exit 2', () => {
    const error = Object.assign(new Error('We encountered an internal error.'), {
      name: 'InternalError',
      $metadata: { httpStatusCode: 500 },
    });
    expect(describeFailure(error)).toEqual({
      text: 'datalake: the S3 or Step Functions service failed: InternalError: We encountered an internal error. (HTTP 500)\n',
      code: 2,
    });
  });

  it('an unforeseen error shows its message, exit 3; its stack only when debugging', () => {
    const error = new TypeError('cannot read properties of null');
    expect(describeFailure(error)).toEqual({
      text: 'datalake: internal error: cannot read properties of null (DATALAKE_DEBUG=1 shows where)\n',
      code: 3,
    });
    expect(describeFailure(error, true).text).toContain(error.stack!);
  });
});

describe('the throughput of a compressed file', () => {
  it('keeps a decimal below 10 MB/s and says it counts compressed bytes', () => {
    const result = {
      valid: true,
      rows: 10,
      bytes: 2_100_000,
      compressed: true,
      errorCount: 0,
      errors: [],
      errorsByColumn: {},
      errorsByRule: {},
      recordSpansLines: false,
    };
    expect(humanReport('x.csv.gz', 'orders', result, 5.39)).toBe(
      '✓ x.csv.gz is valid for dataset "orders" (10 rows, 2.1 MB gzip in 5.39 s, 0.4 MB/s compressed)\n',
    );
  });
});

describe('a lake folder that is a file', () => {
  it('local up --lake <a file>: one line, exit 2', async () => {
    const dir = await scratch();
    await mkdir(join(dir, 'd'));
    const file = join(dir, 'd', 'small.csv');
    await copyFile(VALID, file);
    const { code, err } = await run('local', 'up', '--lake', file);
    expect(code).toBe(2);
    expect(err).toBe(`datalake: the lake folder is not a folder (${file})\n`);
  });
});
