/**
 * The embedded emulator: a local Artifact Registry (Docker/OCI registry, the
 * Artifact Registry API, Container Analysis, identity endpoints) on one loopback
 * port, running inside this process on gar's Rust core.
 */
import { toGarError } from './errors.js';
import { type Native, native } from './native.js';
import { call } from './run.js';

/** A fault rule: matchers left out match everything; one effect at most. */
export interface FaultRule {
  /** Set by the emulator when the rule is added. */
  id?: string;
  /** HTTP method to match (`'GET'`). */
  method?: string;
  /** URL path pattern to match (`'/v2/*\/blobs/*'`). */
  path?: string;
  /** Operation pattern to match: `oci.blob.get`, `oci.manifest.*`, `rest`, `grpc`, `oauth.token`, ... */
  operation?: string;
  /** Answer with this HTTP status and an error body of the surface. */
  status?: number;
  /** With `status`: the `Retry-After` header, in seconds. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection without an answer. */
  reset?: boolean;
  /** Break the connection after this many body bytes. */
  truncateAfter?: number;
  /** Flip the first body byte. */
  corrupt?: boolean;
  /** Fire on the first `times` matching requests only. */
  times?: number;
  /** Fire with this probability (0 to 1), drawn from the seeded generator. */
  probability?: number;
  /** How many times the rule fired (reported by {@link Emulator.faults}). */
  fired?: number;
}

/** One logged request. */
export interface RequestRecord {
  /** When it arrived (RFC 3339). */
  time: string;
  /** The HTTP method. */
  method: string;
  /** The path. */
  path: string;
  /** The raw query. */
  query: string;
  /** The operation name (see {@link FaultRule.operation}). */
  operation: string;
  /** The status answered; `null` when the connection was dropped. */
  status: number | null;
  /** The id of the fault rule that fired, if any. */
  fault: string | null;
  /** The scheme of the `Authorization` header (`'Bearer'`), if any. */
  authorization: string | null;
  /** Time until the response head, in milliseconds. */
  durationMs: number;
}

/**
 * A seed document (the emulator's JSON seed format: projects, repositories,
 * service accounts, users, tokens, roles, images, packages, faults, analysis).
 * See the `gar-emulator` documentation for every field.
 */
export interface Seed {
  projects?: Array<{ id: string; number?: string; locations?: string[] }>;
  repositories?: Array<{
    name: string;
    format: string;
    mode?: string;
    description?: string;
    labels?: Record<string, string>;
    immutableTags?: boolean;
  }>;
  tokens?: Array<{ token: string; principal: string }>;
  roles?: Array<{ principal: string; role: string; resource: string }>;
  defaultPrincipal?: string;
  images?: Array<{ repository: string; image: string; tags?: string[]; layers?: string[] }>;
  allowAnonymousRead?: boolean;
  [field: string]: unknown;
}

/** How to start an emulator. */
export interface EmulatorOptions {
  /** `'demo'` (the default: project `demo-project` in `us-central1`, a repository of every format), a seed file path, or a seed object. */
  seed?: 'demo' | string | Seed;
  /** Keep state in this directory across restarts (a temporary directory otherwise). */
  dataDir?: string;
  /** The address to listen on (`'127.0.0.1:0'`, a free port, by default). */
  listen?: string;
  /** Reproduce GAR's refusal of chunked uploads. */
  garQuirks?: boolean;
  /** Let anonymous callers pull. */
  allowAnonymousRead?: boolean;
  /** Fault rules in force from the start. */
  faults?: FaultRule[];
  /** Seed of the fault generator, for repeatable probabilities. */
  faultSeed?: number;
}

/** A running emulator. Stop it with {@link Emulator.shutdown}. */
export class Emulator {
  readonly #native: Native.NativeEmulator;

  private constructor(n: Native.NativeEmulator) {
    this.#native = n;
  }

  /** Starts an emulator (the demo seed on a free loopback port by default). */
  static async start(options: EmulatorOptions = {}): Promise<Emulator> {
    try {
      return new Emulator(await native.startEmulator(options));
    } catch (e) {
      throw toGarError(e);
    }
  }

  /** The base URL, `http://127.0.0.1:PORT`; pass it as `emulator` to a `Client`. */
  get url(): string {
    return this.#native.url;
  }

  /** An access token of the seed's default principal (the demo's admin user). */
  get token(): string {
    return this.#native.token;
  }

  /** Where blobs (and, with `dataDir`, the state) live. */
  get dataDir(): string {
    return this.#native.dataDir;
  }

  /** Whether it is still running. */
  get running(): boolean {
    return this.#native.running;
  }

  /** Adds a fault rule; returns its id. */
  addFault(rule: FaultRule): string {
    return call(() => this.#native.addFault(rule));
  }

  /** Removes every fault rule. */
  clearFaults(): void {
    call(() => this.#native.clearFaults());
  }

  /** The fault rules, with how often each fired. */
  faults(): FaultRule[] {
    return call(() => this.#native.faults()) as FaultRule[];
  }

  /** The request log, oldest first. */
  requests(): RequestRecord[] {
    return call(() => this.#native.requests()) as RequestRecord[];
  }

  /** An access token for a principal of the seed (`'user:viewer@example.com'`). */
  tokenFor(principal: string): string {
    return call(() => this.#native.tokenFor(principal));
  }

  /** Stops it: open connections may finish (5 s at most); the state is saved. Idempotent. */
  async shutdown(): Promise<void> {
    try {
      await this.#native.shutdown();
    } catch (e) {
      throw toGarError(e);
    }
  }
}
