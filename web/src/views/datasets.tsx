/** Datasets and their rules: what a file must look like before it is sent. */
import { useApp } from '../app-context.ts';
import { href } from '../router.ts';
import { Problem, ScrollRegion, TableHead, ViewHeading } from './common.tsx';

export function DatasetsView() {
  const { datasets, datasetsError } = useApp();
  return (
    <section aria-labelledby="datasets-title">
      <ViewHeading>
        <span id="datasets-title">Datasets and their rules</span>
      </ViewHeading>
      {datasetsError && <Problem>{datasetsError}</Problem>}
      {!datasets && !datasetsError && <p>Loading datasets…</p>}
      {datasets?.length === 0 && <p>No dataset is declared yet.</p>}
      {datasets?.map((ds) => (
        <article class="dataset" key={ds.name} aria-labelledby={`ds-${ds.name}`}>
          <h2 id={`ds-${ds.name}`}>{ds.name}</h2>
          {ds.description && <p>{ds.description}</p>}
          <p>
            Query it as table <code>{ds.table}</code>.{' '}
            <a href={href('upload', { dataset: ds.name })}>Check and upload a file for {ds.name}</a>
          </p>
          <h3>File rules</h3>
          <ul>
            {ds.fileRules.map((rule) => (
              <li key={rule}>{rule}</li>
            ))}
          </ul>
          <ScrollRegion label={`columns of ${ds.name}`}>
            <table class="columns">
              <caption>Columns of {ds.name}, in file order</caption>
              <TableHead columns={['column', 'header in the file', 'type', 'empty allowed', 'rules']} />
              <tbody>
                {ds.columns.map((col) => (
                  <tr key={col.name} class={col.retired ? 'retired' : undefined}>
                    <th scope="row">
                      {col.name}
                      {col.retired && ' (retired: no longer read)'}
                      {col.optional && ' (optional)'}
                    </th>
                    <td>
                      {col.header}
                      {col.aliases.length > 0 && <span class="aside"> or {col.aliases.join(', ')}</span>}
                    </td>
                    <td>
                      <code>{col.type}</code>
                    </td>
                    <td>{col.nullable ? 'yes' : 'no'}</td>
                    <td>
                      {col.description && <p class="aside">{col.description}</p>}
                      <ul class="rules">
                        {col.rules.map((r) => (
                          <li key={r}>{r}</li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </article>
      ))}
    </section>
  );
}
