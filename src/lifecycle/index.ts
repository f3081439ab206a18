/** The lifecycle module (backups; later the removed-records archive and the purge): its public surface. */
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
