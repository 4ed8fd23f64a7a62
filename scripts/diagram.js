#!/usr/bin/env node
// `npm run diagram`: writes docs/incremental-flow.svg, the incremental flow as a sequence diagram
// (client, API with the gate, issuer). The SVG is committed; test/readme/diagram.test.ts fails when
// it is not what this script writes, so edit the steps here and run the script again.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const OUTPUT = path.join(__dirname, '..', 'docs', 'incremental-flow.svg');

const WIDTH = 960;
const TOP = 28;
const HEAD = 64; // height of a participant's box
const STEP = 58; // vertical distance between two messages
const COLOURS = { ink: '#1f2933', muted: '#52606d', line: '#9aa5b1', refused: '#c0392b', passed: '#1e8449' };

const participants = [
  { id: 'client', x: 140, title: 'Client', subtitle: 'wallet app (picket-js, yours)' },
  { id: 'api', x: 480, title: 'Your API', subtitle: 'routes behind express-token-gate' },
  { id: 'issuer', x: 820, title: 'Issuer', subtitle: 'Picket, or express-token-gate/issuer' },
];

/** The flow, top to bottom: a request is a solid arrow, an answer a dashed one. */
const steps = [
  { from: 'client', to: 'issuer', label: 'POST /auth: the wallet signs in', note: 'EIP-4361 signature' },
  {
    from: 'issuer',
    to: 'client',
    label: 'login token',
    note: 'names the wallet, proves no holdings yet',
    answer: true,
  },
  { from: 'client', to: 'api', label: 'GET /communities/apes', note: 'Authorization: Bearer <login token>' },
  {
    from: 'api',
    to: 'client',
    label: '403 insufficient_scope',
    note: 'body: { requirements } the route needs',
    answer: true,
    colour: 'refused',
  },
  { from: 'client', to: 'issuer', label: 'POST /authz', note: '{ accessToken, requirements }' },
  {
    from: 'issuer',
    to: 'client',
    label: 'upgraded token',
    note: 'balances checked, earlier proofs kept',
    answer: true,
  },
  { from: 'client', to: 'api', label: 'GET /communities/apes (retry)', note: 'Authorization: Bearer <upgraded token>' },
  { from: 'api', to: 'client', label: '200', note: 'req.wallet proves the holding', answer: true, colour: 'passed' },
];

// A white outline under each label, so the lifelines it crosses do not run through its letters.
const HALO = ' stroke="#ffffff" stroke-width="5" stroke-linejoin="round" paint-order="stroke"';

const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xOf = (id) => participants.find((p) => p.id === id).x;

/** The SVG document, as a string ending in a newline. */
function render() {
  const firstY = TOP + HEAD + 48;
  const height = firstY + (steps.length - 1) * STEP + 56;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="title desc">`,
    '  <title id="title">Incremental authorization with express-token-gate</title>',
    `  <desc id="desc">${escape(steps.map((s, i) => `${i + 1}. ${s.label}`).join('; '))}</desc>`,
    '  <defs>',
    ...Object.entries(COLOURS).map(
      ([name, colour]) =>
        `    <marker id="arrow-${name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`,
    ),
    '  </defs>',
    `  <rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `  <g font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" fill="${COLOURS.ink}">`,
  );
  for (const p of participants) {
    out.push(
      `    <line x1="${p.x}" y1="${TOP + HEAD}" x2="${p.x}" y2="${height - 16}" stroke="${COLOURS.line}" stroke-width="2" stroke-dasharray="2 6"/>`,
      `    <rect x="${p.x - 130}" y="${TOP}" width="260" height="${HEAD}" rx="10" fill="#f5f7fa" stroke="${COLOURS.ink}" stroke-width="1.5"/>`,
      `    <text x="${p.x}" y="${TOP + 28}" text-anchor="middle" font-size="20" font-weight="600">${escape(p.title)}</text>`,
      `    <text x="${p.x}" y="${TOP + 50}" text-anchor="middle" font-size="14" fill="${COLOURS.muted}">${escape(p.subtitle)}</text>`,
    );
  }
  steps.forEach((step, i) => {
    const y = firstY + i * STEP;
    const from = xOf(step.from);
    const to = xOf(step.to);
    const colour = step.colour ?? 'ink';
    const middle = (from + to) / 2;
    const dash = step.answer ? ' stroke-dasharray="8 5"' : '';
    const weight = step.colour ? ' font-weight="600"' : '';
    out.push(
      `    <line x1="${from}" y1="${y}" x2="${to}" y2="${y}" stroke="${COLOURS[colour]}" stroke-width="2"${dash} marker-end="url(#arrow-${colour})"/>`,
      `    <text x="${middle}" y="${y - 9}" text-anchor="middle" font-size="16" fill="${COLOURS[colour]}"${weight}${HALO}>${i + 1}. ${escape(step.label)}</text>`,
      `    <text x="${middle}" y="${y + 20}" text-anchor="middle" font-size="13" fill="${COLOURS.muted}"${HALO}>${escape(step.note)}</text>`,
    );
  });
  out.push('  </g>', '</svg>');
  return out.join('\n') + '\n';
}

module.exports = { render, OUTPUT };

if (require.main === module) {
  fs.writeFileSync(OUTPUT, render());
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)}`);
}
