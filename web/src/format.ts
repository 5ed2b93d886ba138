/** How the console words numbers, sizes, times and statuses (status always in words, never colour only). */
import type { LedgerStatus } from '../../lib/ledger/model.ts';

/** `1.5 MB`, `312 B` (decimal units, as S3 and the API count). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `1,234,567` */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** An ISO time as the reader's local date and time, to the second. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Each status in words, with what it means for the sender. */
export const STATUS_WORDS: Readonly<Record<LedgerStatus, string>> = {
  RECEIVED: 'Received — checking',
  VALIDATED: 'Valid — converting',
  CURATED: 'Curated — queryable',
  REJECTED: 'Rejected — see errors',
  FAILED: 'Failed — the lake will retry',
};

/** Statuses a shown file may still leave: the pages poll while one is on screen. */
export const MOVING: readonly LedgerStatus[] = ['RECEIVED', 'VALIDATED'];
