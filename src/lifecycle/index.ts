/** The lifecycle module: backups, the removed-records archive, the 150-year purge, the transient store. */

// ── archive, purge, transient store (issue 6 items 3-5) ─────────────────────────────────────────────────
export {
  ARCHIVE_AFTER_YEARS,
  PURGE_MONTH,
  RETENTION_FISCAL_YEARS,
  archiveCutoff,
  isPurgeDue,
  latestPlausibleDay,
  purgeCutoff,
  retentionStart,
} from './retention.js';
export {
  BACKUP_RETENTION_DAYS,
  findPurgeCandidates,
  purgeDone,
  purgedPersonHash,
  runPurge,
  signPurgeCertificate,
  verifyPurgeCertificate,
  type PurgeCertificate,
  type PurgeDeps,
  type PurgeItemResult,
  type PurgeReport,
  type SignedPurgeCertificate,
} from './purge.job.js';
export {
  archiveDone,
  findArchiveCandidates,
  restoreFromArchive,
  runArchive,
  type ArchiveDeps,
  type ArchiveItemResult,
  type ArchiveReport,
} from './archive.job.js';
export { scanForTraces, type TraceScan } from './lifecycle.repository.js';
export {
  TRANSIENT_MAX_TTL_SECONDS,
  TransientStore,
  eraseExpiredTransientItems,
  type Erasure,
} from './transient.store.js';
export { runDueLifecycleJobs, startLifecycleTimers, type LifecycleScheduleDeps } from './schedule.js';
export { registerLifecycleCommands, type LifecycleCommandDeps } from './purge.cli.js';
