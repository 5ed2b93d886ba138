/** A small orders file with one mistake of each common kind, for the demo and the tests. */
import { ORDERS_HEADER, orderRows } from './orders-generator.ts';

/** The broken file's text: 20 rows, 5 of them wrong (line numbers count the header as line 1). */
export function brokenOrdersCsv(): string {
  const lines = orderRows(7, 0, 20).trimEnd().split('\n');
  const fields = (i: number) =>
    lines[i]!.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((f) => f.replace(/,$/, ''));
  const put = (i: number, column: number, value: string) => {
    const f = fields(i);
    f[column] = value;
    lines[i] = f.slice(0, 10).join(',');
  };
  put(2, 4, '12.345'); // line 4: amount with three decimals (decimal(12,2) is never rounded)
  put(5, 5, 'JPY'); // line 7: currency outside the enum
  put(8, 9, '2023-02-29'); // line 10: not a calendar date
  put(11, 1, ''); // line 13: customer is required
  lines[14] = fields(14).slice(0, 4).join(','); // line 16: a row cut short
  return `${ORDERS_HEADER}${lines.join('\n')}\n`;
}
