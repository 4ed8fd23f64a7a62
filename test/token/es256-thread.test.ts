/**
 * The ES256 thread (lib/token/es256-thread.ts): checks written into a shared ring and answered by
 * a worker thread, with the libuv pool for a full ring, for what the worker cannot tell, and for
 * every check of a worker that stopped.
 *
 * The attack: a verifier that hands checks to another thread could hand an answer to the wrong
 * check (a forged token answered "valid" because its neighbour in the ring was), verify under the
 * wrong key, or lose checks when the thread dies. Each test below fails if that happens: answers
 * are compared one by one with how each input was made (signed by this key, signed by another,
 * tampered), with many checks of both kinds and two keys in flight at once, more than the ring
 * holds, and again after the thread is stopped in the middle of them.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { es256ThreadOnline, stopEs256Thread, verifyJwsOffLoop, verifyOffLoop } from '../../lib/token/es256-thread';
import { verifyEs256 } from '../../lib/token/ecdsa';

interface Case {
  data: Buffer;
  signature: Buffer;
  key: KeyObject;
  valid: boolean;
  label: string;
}

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const a = keyPair();
const b = keyPair();

/** Signing input shaped like a JWS (`header.payload`), distinct per index. */
function message(i: number): Buffer {
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'k' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ n: i, pad: 'x'.repeat(i % 300) })).toString('base64url');
  return Buffer.from(`${header}.${payload}`);
}

const signed = (data: Buffer, privateKey: KeyObject): Buffer =>
  sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });

/** Valid and invalid checks under two keys, interleaved so that neighbours in the ring differ. */
function mixedCases(count: number): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const data = message(i);
    const [own, other] = i % 2 === 0 ? [a, b] : [b, a];
    switch (i % 4) {
      case 0:
      case 1:
        cases.push({ data, signature: signed(data, own.privateKey), key: own.publicKey, valid: true, label: 'signed' });
        break;
      case 2:
        cases.push({
          data,
          signature: signed(data, other.privateKey),
          key: own.publicKey,
          valid: false,
          label: 'signed by the other key',
        });
        break;
      default: {
        const signature = signed(data, own.privateKey);
        const tampered = Buffer.from(data);
        const last = tampered.length - 1;
        tampered.writeUInt8(tampered.readUInt8(last) ^ 1, last);
        cases.push({ data: tampered, signature, key: own.publicKey, valid: false, label: 'tampered input' });
      }
    }
  }
  return cases;
}

/** Runs every case at once and lists each whose answer differs from how it was made. */
async function wrongAnswers(cases: Case[], check = verifyEs256): Promise<string[]> {
  const answers = await Promise.all(cases.map((c) => check(c.key, c.data, c.signature)));
  return cases.flatMap((c, i) => (answers[i] === c.valid ? [] : [`#${i} ${c.label}: answered ${answers[i]}`]));
}

describe('ES256 checks on the thread', () => {
  beforeAll(async () => {
    expect(await es256ThreadOnline()).toBe(true);
  });

  test('answers each check of a decision table as it was made', async () => {
    const data = message(1);
    const good = signed(data, a.privateKey);
    const zero = Buffer.alloc(64);
    const table: Case[] = [
      { data, signature: good, key: a.publicKey, valid: true, label: 'signed by the key' },
      { data, signature: good, key: b.publicKey, valid: false, label: 'another key' },
      { data: message(2), signature: good, key: a.publicKey, valid: false, label: 'another message' },
      { data, signature: zero, key: a.publicKey, valid: false, label: 'r = s = 0' },
      { data, signature: good.subarray(0, 63), key: a.publicKey, valid: false, label: '63 bytes (the pool)' },
      { data: Buffer.alloc(0), signature: good, key: a.publicKey, valid: false, label: 'empty input' },
      { data: Buffer.alloc(9000, 0x41), signature: good, key: a.publicKey, valid: false, label: 'input over a slot' },
    ];
    expect(await wrongAnswers(table)).toEqual([]);
  });

  test('gives every check its own answer with 400 checks under two keys in flight (more than the ring holds)', async () => {
    expect(await wrongAnswers(mixedCases(400))).toEqual([]);
  });

  test('the JWS form writes the segments as the signing input: a token verifies, a changed one does not', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'ü', n: 1 })).toString('base64url');
    const signature = signed(Buffer.from(`${header}.${payload}`), a.privateKey).toString('base64url');
    const other = Buffer.from(JSON.stringify({ sub: 'ü', n: 2 })).toString('base64url');
    const answers = await Promise.all([
      verifyJwsOffLoop(a.publicKey, header, payload, signature),
      verifyJwsOffLoop(a.publicKey, header, other, signature),
      verifyJwsOffLoop(b.publicKey, header, payload, signature),
      // A signing input longer than a slot goes to the pool, with the same answer.
      verifyJwsOffLoop(a.publicKey, header, 'x'.repeat(9000), signature),
    ]);
    expect(answers).toEqual([true, false, false, false]);
  });

  test('checks under way when the thread stops are answered on the pool, as are later ones', async () => {
    const cases = mixedCases(200);
    const pending = wrongAnswers(cases, verifyOffLoop);
    stopEs256Thread();
    expect(await pending).toEqual([]);
    expect(await es256ThreadOnline()).toBe(false);
    expect(await wrongAnswers(mixedCases(40))).toEqual([]);
  });
});
