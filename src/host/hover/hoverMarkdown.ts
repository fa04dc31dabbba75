/**
 * The hover's Markdown, as a pure function of what to show: a heading naming the token and the
 * layer/heads, one table per section (partner token, weight), and a command link that opens that
 * head in the panel. A stale hover shows only its note. Every text comes in already localized, so this
 * module needs no `vscode` and is unit-tested as plain strings.
 */
import type { HoverSections } from '../../view-model/attentionLookup';

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
 * A token as table-safe Markdown text: syntax escaped, and whitespace made visible (a token is often
 * just a space or a newline; tokenizers' own markers such as Ġ and ▁ are kept as they are).
 */
export function escapeToken(token: string): string {
  const visible = token.replace(/\r\n|\n|\r/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '␣');
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
  const lines = [`**${escapeText(labels.title)}**`, ''];
  content.sections.forEach((section, s) => {
    const byHead = section.rows.some((row) => row.head !== undefined);
    const header = [labels.sectionHeaders[s] ?? '', labels.weight, ...(byHead ? [labels.head] : [])].map(escapeText);
    lines.push(`| ${header.join(' | ')} |`, byHead ? '|:--|--:|--:|' : '|:--|--:|');
    for (const row of section.rows) {
      const cells = [escapeToken(row.token), formatWeight(row.weight), ...(byHead ? [String(row.head ?? '')] : [])];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  });
  if (openCommand) lines.push(`[${escapeText(labels.open)}](${openCommand})`);
  return lines.join('\n').trimEnd();
}

/** A stale run's hover: no numbers, only the note that says to re-run. */
export function staleHoverMarkdown(note: string): string {
  return `*${escapeText(note)}*`;
}

/** Plain text in Markdown (titles may quote a token). */
function escapeText(text: string): string {
  return text.replace(MARKDOWN_SYNTAX, (c) => `\\${c}`);
}
