/**
 * Runs the shell lines the example server prints, the way bash and curl would, with no shell and
 * no curl needed: `export NAME=…`, `# <status> …` comments, `curl …` and
 * `NAME=$(curl -s … | node -p '…')`. Anything else is an error, so the printout stays runnable.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';

export interface Step {
  /** The status the printout announces in the comment above the command. */
  announced: number;
  /** The command line as printed. */
  line: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** For `NAME=$(…)`: the variable set and its value. */
  assigned?: { name: string; value: string };
}

/** Splits one shell line into words: quotes, backslash escapes and `$NAME` expansion. */
export function shellWords(line: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (at: number): number => {
    const name = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(line.slice(at));
    if (!name) throw new Error(`Unsupported $ at ${at} in: ${line}`);
    const value = env[name[1]!];
    if (value === undefined) throw new Error(`$${name[1]} is not set before: ${line}`);
    word = (word ?? '') + value;
    return at + name[0].length;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ') {
      if (word !== undefined) words.push(word);
      word = undefined;
      i += 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unclosed ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      word ??= '';
      i += 1;
      while (line[i] !== '"') {
        if (i >= line.length) throw new Error(`Unclosed " in: ${line}`);
        if (line[i] === '\\' && /["\\$`]/.test(line[i + 1] ?? '')) {
          word += line[i + 1];
          i += 2;
        } else if (line[i] === '$') {
          i = expand(i);
        } else {
          word += line[i];
          i += 1;
        }
      }
      i += 1;
    } else if (c === '$') {
      i = expand(i);
    } else if (/[\\`|;&<>()]/.test(c)) {
      throw new Error(`Unsupported shell syntax ${c} in: ${line}`);
    } else {
      word = (word ?? '') + c;
      i += 1;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  data?: string;
}

/** The subset of curl the printout uses: -i, -s, -X, -H, -d and one URL. */
function parseCurl(words: string[]): CurlRequest {
  if (words[0] !== 'curl') throw new Error(`Not a curl command: ${words.join(' ')}`);
  const out: CurlRequest = { method: '', url: '', headers: {} };
  for (let i = 1; i < words.length; i += 1) {
    const w = words[i]!;
    if (w === '-i' || w === '-s') continue;
    if (!w.startsWith('-')) {
      if (out.url) throw new Error(`curl got a second URL ${w}`);
      out.url = w;
      continue;
    }
    const value = words[++i];
    if (value === undefined) throw new Error(`curl ${w} needs a value`);
    if (w === '-X') out.method = value;
    else if (w === '-d') out.data = value;
    else if (w === '-H' && value.includes(':')) {
      const colon = value.indexOf(':');
      out.headers[value.slice(0, colon).trim().toLowerCase()] = value.slice(colon + 1).trim();
    } else throw new Error(`Unsupported curl argument ${w} ${value}`);
  }
  // As curl: -d means POST, form-encoded unless the command names a type.
  out.method ||= out.data === undefined ? 'GET' : 'POST';
  if (out.data !== undefined) out.headers['content-type'] ??= 'application/x-www-form-urlencoded';
  return out;
}

function send(req: CurlRequest): Promise<Pick<Step, 'status' | 'headers' | 'body'>> {
  return new Promise((resolve, reject) => {
    const r = request(req.url, { method: req.method, headers: req.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.data);
  });
}

const EXPORT = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const ANNOUNCE = /^# ([1-5][0-9]{2}) /;
const CAPTURE = /^([A-Za-z_][A-Za-z0-9_]*)=\$\((curl .*) \| node -p '([^']*)'\)$/;

/** The commands of a printout, from its first `export` line on, with the status announced for each. */
export function commands(printout: string): Array<{ announced?: number; line: string }> {
  const lines = printout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('export '));
  const out: Array<{ announced?: number; line: string }> = [];
  let announced: number | undefined;
  for (const line of lines.slice(Math.max(start, 0))) {
    if (line.trim() === '') continue;
    const comment = ANNOUNCE.exec(line);
    if (comment) announced = Number(comment[1]);
    else if (!line.startsWith('#')) {
      out.push({ announced, line });
      announced = undefined;
    }
  }
  return out;
}

/** Runs the printout's commands in order, as a shell would, and reports each request. */
export async function runPrintout(printout: string): Promise<Step[]> {
  const env: Record<string, string> = {};
  const steps: Step[] = [];
  for (const { announced, line } of commands(printout)) {
    const exported = EXPORT.exec(line);
    if (exported) {
      env[exported[1]!] = shellWords(exported[2]!, env).join(' ');
      continue;
    }
    if (announced === undefined) throw new Error(`No status is announced for: ${line}`);
    const capture = CAPTURE.exec(line);
    const answer = await send(parseCurl(shellWords(capture ? capture[2]! : line, env)));
    const step: Step = { announced, line, ...answer };
    if (capture) {
      // The printed `node -p` program reads the response body from stdin, as in the pipe.
      const node = spawnSync(process.execPath, ['-p', capture[3]!], { input: answer.body, encoding: 'utf8' });
      if (node.status !== 0) throw new Error(`node -p failed for: ${line}\n${node.stderr}`);
      step.assigned = { name: capture[1]!, value: node.stdout.trim() };
      env[capture[1]!] = step.assigned.value;
    }
    steps.push(step);
  }
  return steps;
}
