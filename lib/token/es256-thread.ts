/**
 * ES256 checks on a thread of their own: one `worker_threads` Worker that runs `crypto.verify`
 * (OpenSSL over the same `KeyObject`) on jobs the event loop writes into a ring of slots in a
 * `SharedArrayBuffer`.
 *
 * Why not the libuv thread pool for every check: when the event loop is busier than the pool
 * (HTTP work and a new token's claims), the pool's queue runs dry between checks, so each check
 * wakes a sleeping pool thread (a futex and, in a virtual machine, an interrupt to the other CPU),
 * and with four pool threads on two cores the woken thread preempts the event loop. Measured in
 * process with 32 checks in flight (bench/RESULTS.md, "Budget"): about one preemption of the loop
 * per token and some 40 µs of CPU per token on the loop beyond the work it does. One thread that
 * drains every job queued while it ran, sleeps only when none is left, and reports results in
 * groups, keeps the loop and the checks on separate cores and wakes either side a few times per
 * group of tokens instead of twice per token.
 *
 * Safety: the worker only answers "valid", "invalid" or "could not tell"; the last (a key it was
 * not given, an exception) and every job of a worker that stopped are checked again on the libuv
 * pool, so the worker can delay an answer but never change one. The loop writes a slot only
 * while the worker does not own it (the ring's counters, read and written with `Atomics`).
 */
import { verify, type KeyObject } from 'node:crypto';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/** Jobs in the ring at once (a power of two); beyond that, checks go to the libuv pool. */
const SLOTS = 64;
/** Signing input bytes a slot holds (tokens are refused above 8,192 characters). */
export const SLOT_DATA_BYTES = 8192;
const SIGNATURE_BYTES = 64;
const SLOT_BYTES = SLOT_DATA_BYTES + SIGNATURE_BYTES;
/** Int32 indices of the control words. */
const PUBLISHED = 0;
const FINISHED = 1;
const ASLEEP = 2;
const CONTROL_BYTES = 64;
/** Results, in the first word of a slot's metadata (the second is the key's number). */
const VALID = 1;
const UNSURE = 2;
/**
 * The worker wakes the loop after this many finished jobs, or when it has none left: fewer
 * wake-ups than one per job, and a result waits for at most three others.
 */
const REPORT_EVERY = 4;

const workerSource = `'use strict';
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { verify } = require('node:crypto');
const { buffer, port, slots, slotBytes, dataBytes, reportEvery } = workerData;
const control = new Int32Array(buffer, 0, 4);
const meta = new Int32Array(buffer, ${CONTROL_BYTES}, slots * 2);
const bytes = new Uint8Array(buffer, ${CONTROL_BYTES} + slots * 8);
const keys = new Map();
function readKeys() {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    if (m.message.key === undefined) keys.delete(m.message.id);
    else keys.set(m.message.id, m.message.key);
  }
}
let done = 0;
let reported = 0;
for (;;) {
  const published = Atomics.load(control, ${PUBLISHED});
  if (published === done) {
    Atomics.store(control, ${ASLEEP}, 1);
    Atomics.wait(control, ${PUBLISHED}, done);
    Atomics.store(control, ${ASLEEP}, 0);
    readKeys();
    continue;
  }
  const slot = done & (slots - 1);
  const at = slot * slotBytes;
  let key = keys.get(meta[slot * 2 + 1]);
  if (key === undefined) {
    readKeys();
    key = keys.get(meta[slot * 2 + 1]);
  }
  let result = ${UNSURE};
  if (key !== undefined) {
    try {
      const data = bytes.subarray(at, at + meta[slot * 2]);
      const signature = bytes.subarray(at + dataBytes, at + dataBytes + ${SIGNATURE_BYTES});
      result = verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) ? ${VALID} : 0;
    } catch {
      result = ${UNSURE};
    }
  }
  meta[slot * 2] = result;
  done = (done + 1) | 0;
  Atomics.store(control, ${FINISHED}, done);
  if (((done - reported) | 0) >= reportEvery || Atomics.load(control, ${PUBLISHED}) === done) {
    reported = done;
    Atomics.notify(control, ${FINISHED});
  }
}
`;

/** `crypto.verify` on the libuv pool: false, never a rejection, for a signature OpenSSL cannot read. */
export function verifyOnPool(key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature, (error, valid) => resolve(!error && valid));
  });
}

type Answer = (valid: boolean) => void;

/** `Atomics.waitAsync` (ES2024; in every Node this package supports), typed here for the ES2022 lib. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync?: (
      array: Int32Array,
      index: number,
      value: number,
    ) => { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

class Es256Thread {
  private readonly control: Int32Array;
  private readonly meta: Int32Array;
  private readonly slots: Buffer[] = [];
  /** Per slot, what the loop keeps of a job: its answer, key and length (to check it again elsewhere). */
  private readonly answers: (Answer | undefined)[] = new Array<Answer | undefined>(SLOTS);
  private readonly keys: (KeyObject | undefined)[] = new Array<KeyObject | undefined>(SLOTS);
  private readonly lengths = new Int32Array(SLOTS);
  private readonly keyNumbers = new WeakMap<KeyObject, number>();
  /** A key that is collected here is dropped by the thread too. */
  private readonly forgetKey = new FinalizationRegistry<number>((id) => {
    if (!this.stopped) this.port.postMessage({ id });
  });
  private nextKeyNumber = 1;
  /** The key of the last job and its number (keeps at most that one key alive). */
  private lastKey: KeyObject | undefined;
  private lastKeyNumber = 0;
  /** Jobs published and jobs whose answer the loop has taken (wrapping 32-bit counters). */
  private published = 0;
  private taken = 0;
  private waiting = false;
  private online = false;
  private stopped = false;
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly started: Promise<boolean>;
  private readonly onReport = (): void => {
    this.waiting = false;
    this.takeAnswers();
  };

  constructor() {
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + SLOTS * 8 + SLOTS * SLOT_BYTES);
    this.control = new Int32Array(buffer, 0, 4);
    this.meta = new Int32Array(buffer, CONTROL_BYTES, SLOTS * 2);
    for (let i = 0; i < SLOTS; i++) {
      this.slots.push(Buffer.from(buffer, CONTROL_BYTES + SLOTS * 8 + i * SLOT_BYTES, SLOT_BYTES));
    }
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.unref();
    this.worker = new Worker(workerSource, {
      eval: true,
      execArgv: [],
      workerData: {
        buffer,
        port: port2,
        slots: SLOTS,
        slotBytes: SLOT_BYTES,
        dataBytes: SLOT_DATA_BYTES,
        reportEvery: REPORT_EVERY,
      },
      transferList: [port2],
    });
    // The thread never keeps the process alive on its own: only while a check is outstanding.
    this.worker.unref();
    this.started = new Promise((resolve) => {
      this.worker.once('online', () => {
        this.online = !this.stopped;
        resolve(this.online);
      });
      this.worker.once('exit', () => resolve(false));
    });
    this.worker.once('error', () => this.stop());
    this.worker.once('exit', () => this.stop());
  }

  /** The slot the next job is written to, or undefined when the ring is full or the thread not running. */
  reserve(): Buffer | undefined {
    if (!this.online || ((this.published - this.taken) | 0) >= SLOTS) return undefined;
    return this.slots[this.published & (SLOTS - 1)];
  }

  /**
   * Hands the thread the job written into the slot `reserve` returned: `length` bytes of signing
   * input from its start, the 64-byte signature at `SLOT_DATA_BYTES`.
   */
  publish(key: KeyObject, length: number): Promise<boolean> {
    const slot = this.published & (SLOTS - 1);
    this.meta[slot * 2] = length;
    this.meta[slot * 2 + 1] = this.numberOf(key);
    this.keys[slot] = key;
    this.lengths[slot] = length;
    const answer = new Promise<boolean>((resolve) => {
      this.answers[slot] = resolve;
    });
    if (this.published === this.taken) this.worker.ref();
    this.published = (this.published + 1) | 0;
    Atomics.store(this.control, PUBLISHED, this.published);
    if (Atomics.load(this.control, ASLEEP) === 1) Atomics.notify(this.control, PUBLISHED);
    this.awaitReport();
    return answer;
  }

  /** Resolves to whether the thread came online. */
  whenOnline(): Promise<boolean> {
    return this.started;
  }

  /** Stops the thread; checks under way are answered on the libuv pool. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.online = false;
    // Whatever the thread did not finish, and whatever it finished that was not taken yet.
    while (this.taken !== this.published) this.retryOnPool(this.taken & (SLOTS - 1));
    void this.worker.terminate();
    this.port.close();
  }

  private numberOf(key: KeyObject): number {
    // Nearly every job is under the key of the one before: no WeakMap lookup then.
    if (key === this.lastKey) return this.lastKeyNumber;
    let id = this.keyNumbers.get(key);
    if (id === undefined) {
      id = this.nextKeyNumber++;
      this.keyNumbers.set(key, id);
      // Posted before the job that needs it, so the thread finds it when it reads its port.
      this.port.postMessage({ id, key });
      this.forgetKey.register(key, id);
    }
    this.lastKey = key;
    this.lastKeyNumber = id;
    return id;
  }

  /** Waits (without blocking the loop) for the thread's next report, while jobs are outstanding. */
  private awaitReport(): void {
    if (this.waiting || this.stopped || this.taken === this.published) return;
    this.waiting = true;
    const finished = Atomics.load(this.control, FINISHED);
    if (finished !== this.taken) {
      queueMicrotask(this.onReport);
      return;
    }
    const wait = waitAsync!(this.control, FINISHED, finished);
    if (wait.async) void wait.value.then(this.onReport);
    else queueMicrotask(this.onReport);
  }

  private takeAnswers(): void {
    if (this.stopped) return;
    const finished = Atomics.load(this.control, FINISHED);
    while (this.taken !== finished) {
      const slot = this.taken & (SLOTS - 1);
      const result = this.meta[slot * 2];
      if (result === UNSURE) {
        this.retryOnPool(slot);
        continue;
      }
      const answer = this.answers[slot]!;
      this.answers[slot] = undefined;
      this.keys[slot] = undefined;
      this.taken = (this.taken + 1) | 0;
      answer(result === VALID);
    }
    if (this.taken === this.published) this.worker.unref();
    else this.awaitReport();
  }

  /** Checks the job in `slot` on the libuv pool (copied out first: the slot is then free). */
  private retryOnPool(slot: number): void {
    const bytes = this.slots[slot]!;
    const answer = this.answers[slot]!;
    const key = this.keys[slot]!;
    this.answers[slot] = undefined;
    this.keys[slot] = undefined;
    const data = Buffer.from(bytes.subarray(0, this.lengths[slot]));
    const signature = Buffer.from(bytes.subarray(SLOT_DATA_BYTES, SLOT_BYTES));
    this.taken = (this.taken + 1) | 0;
    void verifyOnPool(key, data, signature).then(answer);
  }
}

let thread: Es256Thread | null | undefined;

/**
 * The process's ES256 thread, started on first use; undefined while it starts, after it stopped,
 * or where a Worker cannot be started (then every check runs on the libuv pool).
 */
function running(): Es256Thread | undefined {
  if (thread === undefined) {
    try {
      thread = waitAsync === undefined ? null : new Es256Thread();
    } catch {
      thread = null;
    }
  }
  return thread ?? undefined;
}

/**
 * Whether `signature` (raw r‖s) signs `data` under the P-256 `key`: on the ES256 thread when it
 * runs and has a free slot, on the libuv pool otherwise. False, never a rejection, for a signature
 * OpenSSL cannot read.
 */
export function verifyOffLoop(key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const worker = signature.length === SIGNATURE_BYTES && data.length <= SLOT_DATA_BYTES ? running() : undefined;
  const slot = worker?.reserve();
  if (slot === undefined) return verifyOnPool(key, data, signature);
  slot.set(data, 0);
  slot.set(signature, SLOT_DATA_BYTES);
  return worker!.publish(key, data.length);
}

/**
 * The same for the segments of a compact JWS whose signature is canonical base64url of 64 bytes:
 * the signing input (`protected.payload`, UTF-8) and the signature are written straight into the
 * thread's slot, without a Buffer of their own.
 */
export function verifyJwsOffLoop(
  key: KeyObject,
  protectedSegment: string,
  payloadSegment: string,
  signatureSegment: string,
): Promise<boolean> {
  const chars = protectedSegment.length + 1 + payloadSegment.length;
  // UTF-8 takes at most 3 bytes per UTF-16 unit; only longer input needs its length counted.
  const fits =
    chars * 3 <= SLOT_DATA_BYTES ||
    Buffer.byteLength(protectedSegment) + 1 + Buffer.byteLength(payloadSegment) <= SLOT_DATA_BYTES;
  const worker = fits ? running() : undefined;
  const slot = worker?.reserve();
  if (slot === undefined) {
    return verifyOnPool(
      key,
      Buffer.from(`${protectedSegment}.${payloadSegment}`, 'utf8'),
      Buffer.from(signatureSegment, 'base64url'),
    );
  }
  let length = slot.write(protectedSegment, 0, 'utf8');
  slot[length++] = 0x2e; // '.'
  length += slot.write(payloadSegment, length, 'utf8');
  if (slot.write(signatureSegment, SLOT_DATA_BYTES, 'base64url') !== SIGNATURE_BYTES) {
    // Not 64 bytes after all: the slot stays free, the pool answers (false, for OpenSSL).
    return verifyOnPool(
      key,
      Buffer.from(`${protectedSegment}.${payloadSegment}`, 'utf8'),
      Buffer.from(signatureSegment, 'base64url'),
    );
  }
  return worker!.publish(key, length);
}

/** Stops the ES256 thread (checks under way finish on the libuv pool) and starts none again. For tests. */
export function stopEs256Thread(): void {
  thread?.stop();
  thread = null;
}

/** Resolves once the ES256 thread is running (false where it cannot run). For tests. */
export async function es256ThreadOnline(): Promise<boolean> {
  const worker = running();
  if (worker === undefined) return false;
  return worker.whenOnline();
}
