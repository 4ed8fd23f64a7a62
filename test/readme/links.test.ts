/**
 * Every link of the README and of docs/ leads somewhere: a relative link to a file that exists, an
 * `#anchor` to a heading of the page it names, and a link to a file of this repository on GitHub
 * (used for files the package does not ship) to a file that exists here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, docPages, headingsOf, linksOf, readDoc } from '../helpers/docs';

const REPOSITORY = 'https://github.com/express-token-gate/express-token-gate/blob/main/';

/** What is wrong with `target`, linked from `page`, or undefined when it resolves. */
function broken(page: string, target: string): string | undefined {
  if (target.startsWith(REPOSITORY)) {
    const file = target.slice(REPOSITORY.length).split('#')[0]!;
    return fs.existsSync(path.join(ROOT, file)) ? undefined : `no file ${file} in the repository`;
  }
  if (/^[a-z]+:/i.test(target)) return undefined; // another site
  const [file, anchor] = target.split('#') as [string, string | undefined];
  const linked = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
  if (linked.startsWith('..')) return `${linked} is outside the repository`;
  if (!fs.existsSync(path.join(ROOT, linked))) return `no file ${linked}`;
  if (anchor === undefined) return undefined;
  if (!linked.endsWith('.md')) return `#${anchor} on ${linked}, which is no Markdown page`;
  const anchors = headingsOf(readDoc(linked)).map((h) => h.anchor);
  return anchors.includes(anchor) ? undefined : `${linked} has no heading #${anchor}`;
}

describe('links between the README and docs/', () => {
  const pages = docPages();

  test('the pages are the README, the index, every topic and the framework pages', () => {
    expect(pages).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/README.md',
        'docs/api.md',
        'docs/options.md',
        'docs/errors.md',
        'docs/requirements.md',
        'docs/incremental-authorization.md',
        'docs/live-ownership.md',
        'docs/logout.md',
        'docs/key-sets.md',
        'docs/other-issuers.md',
        'docs/testing.md',
        'docs/issuer.md',
        'docs/migration.md',
        'docs/diagnostics.md',
        'docs/performance.md',
        'docs/frameworks/README.md',
        'docs/frameworks/fastify.md',
      ]),
    );
  });

  test.each(pages)('every link of %s resolves', (page) => {
    const links = linksOf(readDoc(page));
    const wrong = links.map((target) => ({ target, wrong: broken(page, target) })).filter((l) => l.wrong);
    expect(wrong).toEqual([]);
  });

  test('the README and the index link every page of docs/', () => {
    const linked = (page: string) =>
      new Set(
        linksOf(readDoc(page))
          .filter((t) => !/^[a-z]+:/i.test(t))
          .map((t) => path.posix.normalize(path.posix.join(path.posix.dirname(page), t.split('#')[0]!))),
      );
    const fromReadme = linked('README.md');
    const fromIndex = linked('docs/README.md');
    const topics = pages.filter(
      (p) => p.startsWith('docs/') && !p.startsWith('docs/frameworks/') && p !== 'docs/README.md',
    );
    for (const page of topics) {
      expect({ page, fromReadme: fromReadme.has(page), fromIndex: fromIndex.has(page) }).toEqual({
        page,
        fromReadme: true,
        fromIndex: true,
      });
    }
  });

  test('the checker itself refuses a missing file, a missing heading and a missing repository file', () => {
    expect(broken('docs/errors.md', 'nowhere.md')).toBe('no file docs/nowhere.md');
    expect(broken('docs/errors.md', '#no-such-heading')).toBe('docs/errors.md has no heading #no-such-heading');
    expect(broken('docs/errors.md', 'options.md#cookies-and-query-tokens')).toBeUndefined();
    expect(broken('README.md', `${REPOSITORY}bench/nothing.md`)).toBe('no file bench/nothing.md in the repository');
  });
});
