/**
 * Running native tasks with `AbortSignal`s, and lists as async iterables.
 * @internal
 */
import { abortedError, toGarError } from './errors.js';
import { type Native, settle } from './native.js';

/** Options every call takes. */
export interface CallOptions {
  /** Cancels the call: its promise rejects with a `GarError` of code `CANCELLED` (name `AbortError`). */
  signal?: AbortSignal;
}

/** Runs `start()` (a native call that returns a task), wiring `signal` to its cancellation. */
export async function run<T>(start: () => Native.Task, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) throw abortedError(signal);
  let task: Native.Task;
  try {
    task = start();
  } catch (e) {
    throw toGarError(e);
  }
  const onAbort = (): void => task.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return decode(await settle(task)) as T;
  } catch (e) {
    throw toGarError(e, signal);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A task's result: JSON arrives as its text (parsed here), bytes and streams as themselves. */
export function decode(v: string | Buffer | Native.ByteStream): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

/** Calls a synchronous native function, converting what it throws. */
export function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw toGarError(e);
  }
}

/** One page of a list. */
export interface Page<T> {
  /** The items of this page. */
  items: T[];
  /** The token of the next page (pass it as `pageToken` to resume); `null` on the last page. */
  nextPageToken: string | null;
}

/**
 * A list: iterate it with `for await` for its items, or call {@link Paged.byPage}
 * for its pages. Pages are fetched one at a time, as they are consumed; breaking
 * out of the loop stops the list. Each iteration starts the list anew.
 */
export class Paged<T> implements AsyncIterable<T> {
  readonly #page: (pageToken: string | undefined, signal: AbortSignal | undefined) => Promise<Page<T> | null>;
  readonly #first: string | undefined;
  readonly #signal: AbortSignal | undefined;

  /** @internal */
  constructor(
    page: (pageToken: string | undefined, signal: AbortSignal | undefined) => Promise<Page<T> | null>,
    first?: string,
    signal?: AbortSignal,
  ) {
    this.#page = page;
    this.#first = first;
    this.#signal = signal;
  }

  /** The pages of the list. */
  async *byPage(): AsyncGenerator<Page<T>, void, undefined> {
    const signal = this.#signal;
    if (signal?.aborted) throw abortedError(signal);
    // Each page is one call, asked for by the previous page's token: nothing
    // is held between pages, so breaking out of the loop leaves nothing open.
    let pageToken = this.#first;
    for (;;) {
      const page = await this.#page(pageToken, signal);
      if (page === null) return;
      yield page;
      // The last page says so: no need to ask for another.
      if (page.nextPageToken === null) return;
      pageToken = page.nextPageToken;
    }
  }

  /** The items of the list. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.byPage()) {
      yield* page.items;
    }
  }

  /** Every item, in one array. */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }
}
