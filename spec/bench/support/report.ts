import type { Spread } from './stats';

/** A table as rows of already formatted cells. */
export interface Table {
  head: string[];
  rows: string[][];
}

/** What one scenario found: tables, and sentences that say what they mean. */
export interface Section {
  title: string;
  /** How it was measured, in a sentence or two. */
  method: string;
  tables: Table[];
  reading: string[];
}

/** A figure with `digits` decimals, or a dash when it could not be measured. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `1.02 (0.99–1.05)`: the median of the runs, and their range when there was more than one. */
export function formatSpread(spread: Spread, digits = 0, unit = ''): string {
  const middle = `${formatNumber(spread.median, digits)}${unit}`;
  if (spread.runs < 2) return middle;
  return `${middle} (${formatNumber(spread.min, digits)}–${formatNumber(spread.max, digits)})`;
}

export function formatVerdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** A section as plain text for the terminal. */
export function renderText(section: Section): string {
  const lines = [`== ${section.title}`, section.method, ''];
  for (const table of section.tables) {
    const widths = table.head.map((cell, column) =>
      Math.max(cell.length, ...table.rows.map((row) => (row[column] ?? '').length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd();
    lines.push(line(table.head), line(widths.map((width) => '-'.repeat(width))));
    for (const row of table.rows) lines.push(line(row));
    lines.push('');
  }
  for (const sentence of section.reading) lines.push(`* ${sentence}`);
  return `${lines.join('\n')}\n`;
}

/** A section as Markdown for docs/benchmarks.md. */
export function renderMarkdown(section: Section): string {
  const lines = [`## ${section.title}`, '', section.method, ''];
  for (const table of section.tables) {
    lines.push(`| ${table.head.join(' | ')} |`);
    lines.push(`| ${table.head.map(() => '---').join(' | ')} |`);
    for (const row of table.rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  }
  for (const sentence of section.reading) lines.push(`- ${sentence}`);
  return `${lines.join('\n')}\n`;
}
