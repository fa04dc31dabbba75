/**
 * The hover's Markdown, as a pure function of what to show: a heading naming the token and the
 * layer/heads, one table whose column groups are the sections side by side (partner token with its
 * position, weight), so the hover stays short, and a command link that opens that head in the panel. A stale hover shows only its note. Every text comes in already localized, so this
 * module needs no `vscode` and is unit-tested as plain strings.
 */
import type { HoverSections, Partner } from '../../view-model/attentionLookup';
import { tokenLabel } from '../../view-model/tokens';

export interface HoverLabels {
  /** The heading: the token and the layer/heads it was read from. */
  readonly title: string;
  /** One column header per section, in the sections' order ("Attends to", "Attended by"). */
  readonly sectionHeaders: readonly string[];
  readonly weight: string;
  /** The head column's header, shown when the rows name their heads. */
  readonly head: string;
  /** The link text; the link is left out when `openCommand` is absent. */
  readonly open: string;
}

/**
 * Characters that are syntax anywhere in a line (emphasis, code, links, HTML, entities, table cells);
 * each is backslash-escaped. Line-start syntax (#, -, 1.) cannot occur: every line starts with ** or |.
 */
const MARKDOWN_SYNTAX = /[\\`*_\[\]<>&|~]/g;

/**
 * A token as table-safe Markdown text: as the panel labels it (tokenLabel: spaces and the tokenizers'
 * space markers Ġ and ▁ as ␣, newlines as ↵), with Markdown syntax escaped.
 */
export function escapeToken(token: string): string {
  const visible = tokenLabel(token);
  return visible === '' ? '∅' : visible.replace(MARKDOWN_SYNTAX, (c) => `\\${c}`);
}

function formatWeight(weight: number): string {
  return weight.toFixed(3);
}

/** A `command:` link target with its JSON arguments, as MarkdownString command links expect. */
export function commandUri(command: string, args: unknown): string {
  return `command:${command}?${encodeURIComponent(JSON.stringify([args]))}`;
}

export function hoverMarkdown(content: HoverSections, labels: HoverLabels, openCommand?: string): string {
  const sections = content.sections;
  const byHead = sections.map((section) => section.rows.some((row) => row.head !== undefined));
  const columns = (s: number, cells: readonly string[]) => (byHead[s] ? cells : cells.slice(0, 2));
  const header = sections.flatMap((_, s) => columns(s, [labels.sectionHeaders[s] ?? '', labels.weight, labels.head]).map(escapeText));
  const lines = [`**${escapeText(labels.title)}**`, '', tableRow(header), `|${sections.flatMap((_, s) => columns(s, [':--', '--:', '--:'])).join('|')}|`];
  const rowCount = Math.max(0, ...sections.map((section) => section.rows.length));
  for (let r = 0; r < rowCount; r++) {
    lines.push(tableRow(sections.flatMap((section, s) => columns(s, partnerCells(section.rows[r])))));
  }
  if (openCommand) lines.push('', `[${escapeText(labels.open)}](${openCommand})`);
  return lines.join('\n');
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Token (with its position: a text often repeats a token), weight and head; blank past a short section. */
function partnerCells(partner: Partner | undefined): string[] {
  if (!partner) return ['', '', ''];
  return [`${escapeToken(partner.token)} (${partner.index})`, formatWeight(partner.weight), partner.head === undefined ? '' : String(partner.head)];
}

/** A stale run's hover: no numbers, only the note that says to re-run. */
export function staleHoverMarkdown(note: string): string {
  return `*${escapeText(note)}*`;
}

/** Plain text in Markdown (titles may quote a token). */
function escapeText(text: string): string {
  return text.replace(MARKDOWN_SYNTAX, (c) => `\\${c}`);
}
