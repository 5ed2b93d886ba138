/**
 * Keyset pages of the files list, kept right while files arrive and move on: a refresh asks for
 * each page with the `next` its fresh predecessor just gave, never with the cursor it was first
 * loaded with (a stale cursor skips the files that new arrivals push off page 1, and repeats the
 * ones that refill it when files leave a status filter).
 */
import type { FilesResponse } from '../../lib/console/contract.ts';

/** One page as shown. */
export interface FilesPage {
  readonly files: FilesResponse['files'];
  readonly next: string | undefined;
}

/** Asks the API for the page after a cursor (the first page without one). */
export type PageFetcher = (cursor: string | undefined) => Promise<FilesResponse>;

/** Loads `count` pages from the newest, one after the other, each from the one before's fresh `next`. */
export async function reloadPages(fetchPage: PageFetcher, count: number): Promise<FilesPage[]> {
  const pages: FilesPage[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < Math.max(1, count); i++) {
    const page = await fetchPage(cursor);
    pages.push({ files: page.files, next: page.next });
    cursor = page.next;
    if (cursor === undefined) break;
  }
  return pages;
}

/** The shown pages and one older, from the last one's `next`; unchanged when there is none. */
export async function olderPage(fetchPage: PageFetcher, pages: readonly FilesPage[]): Promise<FilesPage[]> {
  const cursor = pages.at(-1)?.next;
  if (cursor === undefined) return [...pages];
  const page = await fetchPage(cursor);
  return [...pages, { files: page.files, next: page.next }];
}
