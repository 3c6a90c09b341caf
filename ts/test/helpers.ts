// Shared setup: one emulator per test file (the demo seed), and a client on it.
import { after, before } from 'node:test';

import { Client, type ClientOptions, Emulator, GarError } from '../src/index.js';

export const PROJECT = 'demo-project';
export const LOCATION = 'us-central1';

/** Starts an emulator before the file's tests and stops it after them. */
export function withEmulator(): { emulator: () => Emulator; client: (o?: ClientOptions) => Client } {
  let emu: Emulator | undefined;
  before(async () => {
    emu = await Emulator.start();
  });
  after(async () => {
    await emu?.shutdown();
  });
  const emulator = (): Emulator => {
    if (emu === undefined) throw new Error('the emulator is not started');
    return emu;
  };
  return {
    emulator,
    client: (o: ClientOptions = {}) =>
      new Client({ project: PROJECT, location: LOCATION, emulator: emulator(), ...o }),
  };
}

/** The GarError `p` rejects with (fails if it resolves or rejects with something else). */
export async function rejection(p: Promise<unknown>): Promise<GarError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GarError) return e;
    throw new Error(`expected a GarError, got ${String(e)}`);
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** The GarError `f` throws synchronously. */
export function thrown(f: () => unknown): GarError {
  try {
    f();
  } catch (e) {
    if (e instanceof GarError) return e;
    throw new Error(`expected a GarError, got ${String(e)}`);
  }
  throw new Error('expected a GarError to be thrown');
}
