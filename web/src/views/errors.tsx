/** A list of validation errors, each optionally with its offending record under the file's header. */
import type { ErrorRow } from '../../../lib/cli/format.ts';
import type { OffendingRecord } from '../../../lib/console/contract.ts';
import { ScrollRegion, TableHead } from './common.tsx';

/** What to show records with: the file's header and the records by the line they start on. */
export interface RecordContext {
  readonly header: readonly (string | null)[];
  readonly records: ReadonlyMap<number, OffendingRecord>;
}

/** An error, and where the report has it, the 0-based header cell its value is in (PagedError.field). */
type ShownError = ErrorRow & { readonly field?: number };

export function ErrorTable({
  caption,
  errors,
  context,
}: {
  caption: string;
  errors: readonly ShownError[];
  context?: RecordContext;
}) {
  return (
    <ScrollRegion label={caption}>
      <table class="errors">
        <caption>{caption}</caption>
        <TableHead columns={['line', 'column', 'value', 'rule', 'message']} />
        {errors.map((e, i) => {
          const record = context?.records.get(e.line);
          return (
            <tbody key={`${e.line}-${e.column}-${i}`} class="error">
              <tr>
                <td class="num">{e.line}</td>
                <td>{e.column ?? '—'}</td>
                <td>
                  {e.value === null ? (
                    <span class="aside">(none)</span>
                  ) : e.value === '' ? (
                    <span class="aside">(empty)</span>
                  ) : (
                    <code>{e.value}</code>
                  )}
                </td>
                <td>
                  <code>{e.rule}</code>
                </td>
                <td>{e.message}</td>
              </tr>
              {record && context && (
                <tr class="record-row">
                  <td colSpan={5}>
                    <RecordTable record={record} header={context.header} bad={e.field ?? -1} />
                  </td>
                </tr>
              )}
            </tbody>
          );
        })}
      </table>
    </ScrollRegion>
  );
}

/** One record as a row of cells under the header, the bad cell marked and labelled. */
function RecordTable({
  record,
  header,
  bad,
}: {
  record: OffendingRecord;
  header: readonly (string | null)[];
  bad: number;
}) {
  const width = Math.max(header.length, record.fields.length);
  const cells = Array.from({ length: width }, (_, i) => i);
  return (
    <table class="record" aria-label={`line ${record.line} of the file`}>
      <thead>
        <tr>
          {cells.map((i) => (
            <th scope="col" key={i}>
              {header[i] ?? <span class="aside">(no header)</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        <tr>
          {cells.map((i) => {
            const v = record.fields[i];
            const text = v === undefined ? '' : v === null ? '' : v;
            return (
              <td key={i}>
                {i === bad ? (
                  <mark class="bad" title="offending value">
                    <span class="sr-only">offending value: </span>
                    <span class="value">{text}</span>
                    {!text && <span class="aside">(empty)</span>}
                  </mark>
                ) : v === undefined ? (
                  <span class="aside">(missing)</span>
                ) : (
                  text
                )}
              </td>
            );
          })}
        </tr>
      </tbody>
    </table>
  );
}
