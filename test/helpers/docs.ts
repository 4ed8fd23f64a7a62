/**
 * The README and the pages of docs/, read the way the tests that hold them to the code need them:
 * a page, the section under one heading, the fenced blocks of one language, and the anchors
 * GitHub gives headings.
 */
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';

export const ROOT = path.resolve(__dirname, '../..');

/** A page by its path from the repository root: `README.md`, `docs/errors.md`. */
export function readDoc(page: string): string {
  return fs.readFileSync(path.join(ROOT, page), 'utf8');
}

export interface Heading {
  level: number;
  /** The heading's text as written, without the `#`s. */
  text: string;
  /** Its anchor, as GitHub (and npm) make it. */
  anchor: string;
  /** Where the heading's line starts in the page. */
  at: number;
}

/**
 * GitHub's anchor for a heading: the rendered text (code spans lose their backticks) in lower case,
 * every character but letters, digits, spaces, `-` and `_` dropped, each space a `-`.
 */
export function anchorOf(text: string): string {
  return text
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The headings of `text`, outside fenced blocks; a repeated anchor gets `-1`, `-2`, … as on GitHub. */
export function headingsOf(text: string): Heading[] {
  const headings: Heading[] = [];
  const seen = new Map<string, number>();
  let fenced = false;
  let at = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6}) (.+)$/.exec(line);
    if (match) {
      const base = anchorOf(match[2]!);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      headings.push({ level: match[1]!.length, text: match[2]!, anchor: count ? `${base}-${count}` : base, at });
    }
    at += line.length + 1;
  }
  return headings;
}

/**
 * The text of `page` from the heading whose text is `heading` up to the next heading of the same or
 * a higher level (the end of the page for its title). Throws when the page has no such heading.
 */
export function section(page: string, heading: string): string {
  const text = readDoc(page);
  const headings = headingsOf(text);
  const index = headings.findIndex((h) => h.text === heading);
  if (index < 0) throw new Error(`${page} has no heading "${heading}"`);
  const { level, at } = headings[index]!;
  const next = headings.slice(index + 1).find((h) => h.level <= level);
  return text.slice(at, next?.at);
}

/** The fenced blocks of `lang` in `text`, each with its final newline. */
export function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The first fenced block of `lang` under `heading` of `page`. */
export function block(page: string, heading: string, lang = 'js'): string {
  const [first] = blocks(section(page, heading), lang);
  if (first === undefined) throw new Error(`${page} has no ${lang} block under "${heading}"`);
  return first;
}

/** The Markdown pages of the repository the docs link between: the README and docs/**. */
export function docPages(): string[] {
  const pages = ['README.md'];
  const visit = (dir: string) => {
    for (const entry of fs
      .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) visit(relative);
      else if (entry.name.endsWith('.md')) pages.push(relative);
    }
  };
  visit('docs');
  return pages;
}

/** The link targets of a Markdown text, outside fenced blocks and code spans: inline `](…)` and reference definitions. */
export function linksOf(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
  const references = [...prose.matchAll(/^\[[^\]]+\]:\s+(\S+)/gm)].map((m) => m[1]!);
  return [...inline, ...references];
}

/**
 * An `express` for a page's sample to `require`: the same Express, except that `listen` hands the
 * app over (`app()`) instead of opening a port, so supertest can drive what the sample built.
 */
export function capturingExpress(): { express: typeof express; app(): express.Express | undefined } {
  let app: express.Express | undefined;
  const capturing = Object.assign(() => {
    const created = express();
    created.listen = (() => {
      app = created;
    }) as unknown as typeof created.listen;
    return created;
  }, express);
  return { express: capturing, app: () => app };
}
