/**
 * docs/incremental-flow.svg is what scripts/diagram.js writes, so the picture cannot go stale: change
 * the steps in the script and run it (`npm run diagram`). The README and the incremental
 * authorization page show it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, readDoc } from '../helpers/docs';

const { render, OUTPUT } = require('../../scripts/diagram.js') as { render(): string; OUTPUT: string };

describe('the incremental flow diagram', () => {
  test('the committed SVG is byte for byte what scripts/diagram.js writes', () => {
    expect(path.relative(ROOT, OUTPUT)).toBe('docs/incremental-flow.svg');
    expect(fs.readFileSync(OUTPUT, 'utf8')).toBe(render());
  });

  test('it draws the flow in order: login, token, 403 with requirements, /authz, upgraded token, 200', () => {
    const labels = [...render().matchAll(/<text [^>]*>(\d+)\. ([^<]+)<\/text>/g)].map((m) => `${m[1]}. ${m[2]}`);
    expect(labels).toEqual([
      '1. POST /auth: the wallet signs in',
      '2. login token',
      '3. GET /communities/apes',
      '4. 403 insufficient_scope',
      '5. POST /authz',
      '6. upgraded token',
      '7. GET /communities/apes (retry)',
      '8. 200',
    ]);
  });

  test('the README and docs/incremental-authorization.md show it', () => {
    expect(readDoc('README.md')).toMatch(/!\[[^\]]+\]\(docs\/incremental-flow\.svg\)/);
    expect(readDoc('docs/incremental-authorization.md')).toMatch(/!\[[^\]]+\]\(incremental-flow\.svg\)/);
  });
});
