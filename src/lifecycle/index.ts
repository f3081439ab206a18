/** The lifecycle module: backups, the removed-records archive, the 150-year purge, the transient store. */

// ── backups (issue 6 item 2) ───────────────────────────────────────────────────────────────────────────
export {
  backupExpiresOn,
  backupFileName,
  compareSummaries,
  nextDailyRun,
  parseBackupFileName,
  type BackupHeader,
  type TableDifference,
  type TableSummary,
} from './backup.js';
export {
  applyRetention,
  contentChecksums,
  createBackup,
  drillBackup,
  listBackups,
  restoreBackup,
  runBackup,
  verifyBackup,
  verifyBackupLogged,
  type BackupContext,
  type BackupListing,
  type BackupLocations,
  type BackupResult,
  type BackupRun,
  type DrillResult,
  type RestoreResult,
  type VerifiedBackup,
} from './backup.service.js';
export { startDailyBackup, type DailyBackupOptions } from './backup.job.js';
export { locationsFor, registerBackupCommands, type BackupCommandDeps } from './lifecycle.cli.js';
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
