/**
 * `@gar-rs/gar`: a client for Google Artifact Registry on gar's Rust core, with
 * an embedded emulator for tests and offline work.
 *
 * @packageDocumentation
 */
export {
  Cleanup,
  Client,
  DockerImages,
  Files,
  Images,
  Locations,
  Packages,
  Repositories,
  Tags,
  Versions,
  Vulnerabilities,
} from './client.js';
export type {
  Across,
  CleanupOptions,
  ClientOptions,
  Credentials,
  FilterOptions,
  ImageDetails,
  ImageName,
  ImageTransferOptions,
  ListOptions,
  LocationFailure,
  OrderOptions,
  Progress,
  RepositoryFields,
  Served,
  TransferOptions,
  TransferReport,
} from './client.js';
export { Emulator } from './emulator.js';
export type { EmulatorOptions, FaultRule, RequestRecord, Seed } from './emulator.js';
export { ERROR_CODES, GarError } from './errors.js';
export type { ErrorCategory, ErrorCode, ErrorResource, GrpcCode } from './errors.js';
export { Paged } from './run.js';
export type { CallOptions, Page } from './run.js';
export type * from './types.js';
