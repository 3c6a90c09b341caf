/**
 * Errors of every gar call: one class, {@link GarError}, with a stable `code`
 * (the Rust facade's `ErrorKind`), its `category`, whether a retry may help,
 * and the HTTP status, gRPC code and OCI error code when the server gave them.
 * Branch on `code`, never on the message.
 */

/** Every error code, in the taxonomy's order (the Rust `ErrorKind::code()` values). */
export const ERROR_CODES = [
  'INVALID_PROJECT',
  'INVALID_LOCATION',
  'INVALID_REPOSITORY',
  'INVALID_PACKAGE',
  'INVALID_VERSION',
  'INVALID_TAG',
  'INVALID_FILE',
  'INVALID_DIGEST',
  'INVALID_REFERENCE',
  'INVALID_RESOURCE_NAME',
  'INVALID_ARGUMENT',
  'FAILED_PRECONDITION',
  'CREDENTIALS_NOT_FOUND',
  'TOKEN_EXPIRED',
  'TOKEN_REFRESH_FAILED',
  'SERVICE_ACCOUNT_INVALID',
  'PERMISSION_DENIED',
  'PROJECT_ACCESS_DENIED',
  'REPOSITORY_ACCESS_DENIED',
  'REPOSITORY_NOT_FOUND',
  'FORMAT_MISMATCH',
  'LOCATION_UNAVAILABLE',
  'PACKAGE_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'TAG_NOT_FOUND',
  'FILE_NOT_FOUND',
  'MANIFEST_NOT_FOUND',
  'MANIFEST_INVALID',
  'MANIFEST_DIGEST_MISMATCH',
  'SCHEMA_NOT_SUPPORTED',
  'BLOB_NOT_FOUND',
  'BLOB_UPLOAD_FAILED',
  'BLOB_DIGEST_MISMATCH',
  'STORAGE_EXCEEDED',
  'REQUESTS_EXCEEDED',
  'DOWNLOAD_EXCEEDED',
  'CONNECTION_FAILED',
  'TIMEOUT',
  'DNS_RESOLUTION_FAILED',
  'TLS_HANDSHAKE_FAILED',
  'INTERNAL_ERROR',
  'SERVICE_UNAVAILABLE',
  'CIRCUIT_OPEN',
  'UNIMPLEMENTED',
  'INVALID_RESPONSE',
  'ALREADY_EXISTS',
  'ABORTED',
  'NOT_FOUND',
  'CANCELLED',
  'IO',
] as const;

/** A stable error code (`'MANIFEST_NOT_FOUND'`). */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The taxonomy row of an error code. */
export type ErrorCategory =
  | 'CONFIGURATION'
  | 'AUTHENTICATION'
  | 'AUTHORIZATION'
  | 'REPOSITORY'
  | 'PACKAGE'
  | 'MANIFEST'
  | 'BLOB'
  | 'QUOTA'
  | 'NETWORK'
  | 'SERVER'
  | 'CONFLICT'
  | 'OTHER';

/** A canonical gRPC status code name. */
export type GrpcCode =
  | 'OK'
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

/** The resource a failed call was about. */
export interface ErrorResource {
  /** Its kind as a noun: `'repository'`, `'package'`, `'version'`, `'tag'`, `'manifest'`, ... */
  kind: string;
  /** Its id. */
  id: string;
  /** Its parent's resource name, when known. */
  parent: string | null;
}

/** What the native addon says about an error (the JSON after the marker). */
interface Described {
  code: ErrorCode;
  category: ErrorCategory;
  message: string;
  retryable: boolean;
  httpStatus?: number;
  grpcCode?: GrpcCode;
  grpcStatus?: number;
  ociCode?: string;
  serverMessage?: string;
  retryAfterMs?: number;
  resource?: ErrorResource;
  causes?: string[];
}

const MARKER = 'gar-error:';

/** The error of every gar call. */
export class GarError extends Error {
  /** The stable code: branch on this. */
  readonly code: ErrorCode;
  /** The code's taxonomy row. */
  readonly category: ErrorCategory;
  /** Whether retrying the same call may succeed (gar has already retried as configured). */
  readonly retryable: boolean;
  /** The HTTP status of the answer, if there was one. */
  readonly httpStatus: number | undefined;
  /** The gRPC status code name (also derived from HTTP answers of Google APIs). */
  readonly grpcCode: GrpcCode | undefined;
  /** The gRPC status code number. */
  readonly grpcStatus: number | undefined;
  /** The OCI registry error code (`MANIFEST_UNKNOWN`), for registry answers. */
  readonly ociCode: string | undefined;
  /** The server's own message, when it sent one. */
  readonly serverMessage: string | undefined;
  /** How long the server asked to wait before a retry, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** The resource the call was about, when known. */
  readonly resource: ErrorResource | undefined;

  /** Builds an error; gar builds them for you, tests and wrappers may too. */
  constructor(
    code: ErrorCode,
    message: string,
    details: Partial<Omit<Described, 'code' | 'message'>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = code === 'CANCELLED' ? 'AbortError' : 'GarError';
    this.code = code;
    this.category = details.category ?? 'OTHER';
    this.retryable = details.retryable ?? false;
    this.httpStatus = details.httpStatus;
    this.grpcCode = details.grpcCode;
    this.grpcStatus = details.grpcStatus;
    this.ociCode = details.ociCode;
    this.serverMessage = details.serverMessage;
    this.retryAfterMs = details.retryAfterMs;
    this.resource = details.resource;
  }

  /** Whether a resource was not found (any of the `*_NOT_FOUND` codes). */
  isNotFound(): boolean {
    return this.code.endsWith('NOT_FOUND') && this.code !== 'CREDENTIALS_NOT_FOUND';
  }

  /** Whether the configuration or an argument was wrong (fix the call, do not retry). */
  isConfiguration(): boolean {
    return this.category === 'CONFIGURATION';
  }

  /** Whether credentials are missing or unusable. */
  isAuthentication(): boolean {
    return this.category === 'AUTHENTICATION';
  }

  /** Whether the caller lacks a permission. */
  isAuthorization(): boolean {
    return this.category === 'AUTHORIZATION';
  }

  /** Whether bytes did not match their digest. */
  isDigestMismatch(): boolean {
    return this.code === 'MANIFEST_DIGEST_MISMATCH' || this.code === 'BLOB_DIGEST_MISMATCH';
  }

  /** Whether the call was cancelled through its `AbortSignal`. */
  isCancelled(): boolean {
    return this.code === 'CANCELLED';
  }
}

function parse(message: string): Described | undefined {
  const at = message.indexOf(MARKER);
  if (at < 0) return undefined;
  try {
    const d = JSON.parse(message.slice(at + MARKER.length)) as Described;
    return typeof d.code === 'string' ? d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `e` (anything the native addon threw or rejected with) as a `GarError`.
 * `signal`, when it fired, becomes the cause of a `CANCELLED` error.
 * @internal
 */
export function toGarError(e: unknown, signal?: AbortSignal): unknown {
  if (e instanceof GarError) return e;
  if (!(e instanceof Error)) return e;
  const d = parse(e.message);
  if (d === undefined) return e;
  let cause: unknown;
  if (d.code === 'CANCELLED' && signal?.aborted) {
    cause = signal.reason;
  } else if (d.causes !== undefined && d.causes.length > 0) {
    // The source chain, innermost last, as nested errors.
    cause = d.causes.reduceRight<Error | undefined>(
      (inner, text) => new Error(text, inner === undefined ? undefined : { cause: inner }),
      undefined,
    );
  }
  const { code, message, ...details } = d;
  return new GarError(code, message, details, cause === undefined ? undefined : { cause });
}

/** The error of a call made after its signal fired. @internal */
export function abortedError(signal: AbortSignal): GarError {
  return new GarError(
    'CANCELLED',
    'the call was cancelled',
    { category: 'OTHER', retryable: false },
    { cause: signal.reason },
  );
}
