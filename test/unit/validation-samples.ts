/**
 * The files the differential tests of the validator hold to a single pass (validation in slices,
 * validation in parallel ranges): the conformance corpus, generated orders files, dialect edge
 * cases, records over the size cap and seeded random files; no fixture files.
 */
import { readFileSync } from 'node:fs';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows, prng } from '../../lib/samples/orders-generator.ts';
import { csvBytes, loadCorpus } from '../conformance/corpus.ts';

import { dataset, NAME_QTY } from './tokenizer-harness.ts';

export { dataset, NAME_QTY };

/** One required int column: a blank line in the middle is a null value there, not a ragged row. */
export const ONE_REQUIRED = dataset([{ name: 'v', type: 'int', nullable: false }]);
/** Column names that are also Object.prototype members: counts must still be plain numbers. */
export const PROTO_NAMES = dataset([
  { name: 'constructor', type: 'int' },
  { name: 'to_string', type: 'int' },
]);
export const ORDERS = parseDataset(
  JSON.parse(readFileSync(new URL('../../datasets/orders.json', import.meta.url), 'utf8')),
  'orders.json',
);

/**
 * Orders after the rules of change: `customer` also read as "Client", `discount` optional, a
 * retired int column `legacy_code` and an optional column `channel` no file here carries.
 */
export function evolvedOrders(extraColumns: 'reject' | 'ignore'): Dataset {
  const declared = JSON.parse(readFileSync(new URL('../../datasets/orders.json', import.meta.url), 'utf8'));
  const columns = declared.columns.map((col: { name: string }) =>
    col.name === 'customer'
      ? { ...col, aliases: ['Client'] }
      : col.name === 'discount'
        ? { ...col, optional: true }
        : col,
  );
  return parseDataset(
    {
      ...declared,
      extraColumns,
      columns: [
        ...columns,
        { name: 'legacy_code', type: 'int', retired: true },
        { name: 'channel', type: 'string', enum: ['web', 'store'], optional: true },
      ],
    },
    'orders.json',
  );
}

/**
 * An orders file as a newer export writes it: "Client" for "Customer Name", and in front the
 * retired `legacy_code` and an undeclared `warehouse`, whose values would break their rules if
 * they were read (`legacy_code` is an int column; "n/a" is no int).
 */
export function evolvedOrdersCsv(orders: string): string {
  const [header, ...lines] = orders.split('\n');
  const renamed = header!.replace('Customer Name', 'Client');
  return [
    `legacy_code,warehouse,${renamed}`,
    ...lines.map((l, i) => (l === '' ? l : `n/a,"W-${i}\n",${l}`)),
  ].join('\n');
}

/** A file to validate whole and in slices. */
export interface Sample {
  readonly name: string;
  readonly dataset: Dataset;
  readonly bytes: Buffer;
  readonly maxRecordBytes?: number;
}

export const crlf = (text: string) => text.replace(/\n/g, '\r\n');
export const sample = (
  name: string,
  ds: Dataset,
  text: string | Buffer,
  maxRecordBytes?: number,
): Sample => ({
  name,
  dataset: ds,
  bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
  ...(maxRecordBytes === undefined ? {} : { maxRecordBytes }),
});

/** Records over a 120-byte cap in every shape skip mode and the tokenizer must agree on. */
export const OVERSIZED = [
  'name,qty\n',
  'ok,1\n',
  `${'x'.repeat(300)},2\n`,
  `"${'y'.repeat(100)}\n${'z'.repeat(100)}\n""\n",3\n`,
  'after,bad\n',
  `${'w'.repeat(119)},4\n`, // 121 bytes without the line ending: over by one
  `${'v'.repeat(118)},5\n`, // exactly the cap
  '\n',
  `${'u'.repeat(200)},6\r\n`, // a CRLF record in an LF file
  `${'t'.repeat(200)},7\r8,x\n`, // ended by a bare CR
  `"a"${'b'.repeat(200)},9\n`, // text after a closing quote
  'last,10\n',
  '\n\n',
].join('');

/** Orders whose customer values hold line breaks on every other line (quoted, as exports do). */
export function quotedNewlineOrders(): string {
  const rows = orderRows(3, 0, 120)
    .split('\n')
    .map((line, i) => (i % 2 === 0 ? line.replace(/, /g, ',\n') : line));
  return ORDERS_HEADER + rows.join('\n');
}

export function generatedSamples(): Sample[] {
  const broken = brokenOrdersCsv();
  return [
    sample('valid orders', ORDERS, ORDERS_HEADER + orderRows(42, 0, 150)),
    sample('broken orders', ORDERS, broken),
    sample('broken orders, CRLF', ORDERS, crlf(broken)),
    sample('broken orders, BOM', ORDERS, `\uFEFF${broken}`),
    sample('broken orders, BOM and CRLF', ORDERS, `\uFEFF${crlf(broken)}`),
    sample('orders with quoted line breaks', ORDERS, quotedNewlineOrders()),
    sample('orders with quoted line breaks, CRLF', ORDERS, crlf(quotedNewlineOrders())),
    sample(
      'orders, mixed line endings',
      ORDERS,
      ORDERS_HEADER + orderRows(5, 0, 20) + crlf(orderRows(5, 20, 30)),
    ),
    sample('orders, bad header', ORDERS, `order_id,customer name,sku,sku,extra\n${orderRows(9, 0, 5)}`),
    sample('evolved orders, columns ignored', evolvedOrders('ignore'), evolvedOrdersCsv(broken)),
    sample('evolved orders, columns rejected', evolvedOrders('reject'), evolvedOrdersCsv(broken)),
    sample('records over the cap', NAME_QTY, OVERSIZED, 120),
    sample('records over the cap, CRLF', NAME_QTY, crlf(OVERSIZED), 120),
    sample('a header over the cap', NAME_QTY, `${'h'.repeat(300)},qty\nx,1\n\n2,3\n`, 120),
    sample('blank lines, then a record over the cap', NAME_QTY, `\n\n${'x'.repeat(300)}\n1,2\n`, 120),
    sample('an unterminated record over the cap', NAME_QTY, `name,qty\n1,2\n"${'x'.repeat(300)}\n,5\n`, 120),
    sample(
      'a record over the cap ended by a bare CR at the end',
      NAME_QTY,
      `name,qty\n${'x'.repeat(300)}\r`,
      120,
    ),
    sample('blank lines in the middle and at the end', NAME_QTY, 'name,qty\na,1\n\n\nb,2\n\n\n'),
    sample('blank lines at the end, CRLF', NAME_QTY, 'name,qty\r\na,1\r\n\r\n\r\n'),
    sample('blank lines in a required one-column file', ONE_REQUIRED, 'v\n1\n\n2\n\n'),
    sample('BOM', NAME_QTY, '\uFEFFname,qty\nx,1\ny,z\n'),
    sample('mixed line endings', NAME_QTY, 'name,qty\r\na,1\r\nb,2\nc,x\r\nd,3\n'),
    sample('header only', NAME_QTY, 'name,qty\n'),
    sample('header only, no final newline', NAME_QTY, 'name,qty'),
    sample('bad header', NAME_QTY, 'name,nme,qty,qty,constructor,__proto__\na,b,1,2,3,4\nc\nd,e,f,g,h,i\n'),
    sample('header without the declared columns', NAME_QTY, 'nm,extra\n1,2\n3\n'),
    sample('column names of Object.prototype', PROTO_NAMES, 'constructor,to_string\nx,1\ny,z\n'),
    sample('missing header (a leading blank line)', NAME_QTY, '\nname,qty\na,1\n\nb,2\n'),
    sample('empty file', NAME_QTY, ''),
    sample('only blank lines', NAME_QTY, '\n\n\n'),
    sample('UTF-16', NAME_QTY, Buffer.from('\uFEFFname,qty\n1,2\n', 'utf16le')),
    sample(
      'invalid UTF-8',
      NAME_QTY,
      Buffer.concat([
        Buffer.from('name,qty\n'),
        Buffer.from([0x62, 0xc3, 0x28, 0x2c, 0x33, 0x0a]),
        Buffer.from('ok,1\n'),
      ]),
    ),
    sample('bare CR line endings', NAME_QTY, 'name,qty\ra,1\rb,x\n'),
    sample('unterminated quote', NAME_QTY, 'name,qty\na,1\n"b,2\nc,3\n'),
    sample('no final newline', NAME_QTY, 'name,qty\na,1\nb,x'),
    sample(
      'the dialect mix',
      NAME_QTY,
      Buffer.concat([
        Buffer.from('\uFEFFname,qty\r\n"a,""b""\r\nc",1\r\ncafé 😀,x\n日本,2\n', 'utf8'),
        Buffer.from([0x62, 0xc3, 0x28, 0x2c, 0x33, 0x0a]),
        Buffer.from('short\n"q"z,4\nab"c,5\n\nlast,"6"\r\n"open,7\n', 'utf8'),
      ]),
    ),
  ];
}

/**
 * Records over a 40-byte cap, each several slices long, so that runs stop inside them (skip mode)
 * in every state it has: at a field start, in an unquoted or quoted field, after a quote inside a
 * quoted field, after a CR. The cases are those where the end of a skipped record is subtle.
 */
export function oversizedSamples(): Sample[] {
  const cap = 40;
  const long = (c: string) => c.repeat(150);
  return [
    sample(
      'quoted records over the cap with doubled quotes and line breaks inside',
      NAME_QTY,
      `name,qty\nok,1\n"${long('a')}""\n""${long('b')}\r\n""",2\nnext,x\n"""${long('c')}""",3\n` +
        `${long('d')},"${long('e')}\n""\n${long('f')}"\nlast,4\n`,
      cap,
    ),
    sample(
      'quoted records over the cap with doubled quotes and line breaks inside, CRLF',
      NAME_QTY,
      crlf(`name,qty\n"${long('a')}""\n"",${long('b')}\n""",2\n"x""\n${long('c')}"\nlast,4\n`),
      cap,
    ),
    sample(
      'a bare CR right after records over the cap',
      NAME_QTY,
      `name,qty\na,1\n${long('x')}\rb,2\n${long('y')}\r\r\nc,3\n"${long('z')}"\rd,x\n${long('w')},\r\n`,
      cap,
    ),
    sample(
      'a header over the cap, quoted over two lines, then a blank line in the middle',
      NAME_QTY,
      `"${long('h')}""\n${long('h')}",qty\r\na,1\r\n\r\nb,2\r\n\r\n`,
      cap,
    ),
    sample('a header over the cap, unquoted, and nothing else', NAME_QTY, long('h'), cap),
    sample(
      'a last record over the cap without a final newline',
      NAME_QTY,
      `name,qty\na,1\n${long('z')},5`,
      cap,
    ),
    sample(
      'a last quoted record over the cap ending at its closing quote',
      NAME_QTY,
      `name,qty\na,1\n"${long('z')}"`,
      cap,
    ),
    sample(
      'an unterminated quote inside a record over the cap at the end of the file',
      NAME_QTY,
      `name,qty\na,1\nb,"${long('u')}\n${long('u')}""\nmore,5\n`,
      cap,
    ),
    sample(
      'records over the cap in a row, after blank lines in the middle',
      NAME_QTY,
      `name,qty\na,1\n\n\n${long('p')}\n${long('q')}\n"${long('r')}"\n\nb,2\n`,
      cap,
    ),
    sample('many blank lines before the header', NAME_QTY, `${'\n'.repeat(300)}name,qty\na,1\n`),
    sample('many blank lines and bare CRs, nothing else', NAME_QTY, '\n\r\r\n'.repeat(100)),
  ];
}

/** Seeded random files with long runs of text and quotes, so that most records go over the cap. */
export function oversizedFuzzSamples(count: number): Sample[] {
  const alphabet = ['x'.repeat(30), '"', '""', ',', '\n', '\r\n', '\r', 'a', '1', ',"', '",', '"\n', '\r"'];
  return Array.from({ length: count }, (_, k) => {
    const rand = prng(5000 + k);
    let body = rand() < 0.8 ? 'name,qty\n' : '';
    const length = Math.floor(rand() * 120);
    for (let i = 0; i < length; i++) body += alphabet[Math.floor(rand() * alphabet.length)];
    return sample(`random file with long records ${k}`, NAME_QTY, body, 8 + Math.floor(rand() * 40));
  });
}

/** Seeded random files over an alphabet of delimiters, quotes and line endings, with a small cap. */
export function fuzzSamples(count: number): Sample[] {
  const alphabet = ['a', 'b', '1', '2', ',', ',', '"', '""', '\n', '\n', '\r\n', '\r', 'é', '日'];
  return Array.from({ length: count }, (_, k) => {
    const rand = prng(1000 + k);
    const header = rand() < 0.85 ? 'name,qty\n' : '';
    let body = '';
    const length = Math.floor(rand() * 200);
    for (let i = 0; i < length; i++) body += alphabet[Math.floor(rand() * alphabet.length)];
    return sample(`random file ${k}`, NAME_QTY, header + body, 4 + Math.floor(rand() * 40));
  });
}

export function corpusSamples(): Sample[] {
  return loadCorpus().map((c) => ({
    name: `corpus ${c.name}`,
    dataset: parseDataset(c.dataset, `${c.name}.json`),
    // Slices are taken of plain CSV only (a gzip stream cannot resume), so the CSV itself.
    bytes: csvBytes(c),
  }));
}
