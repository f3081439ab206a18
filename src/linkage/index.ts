/**
 * Linkage (連携) with other systems of the municipality: for now the full-set export (一括抽出) for
 * business systems. Change deltas and the per-peer adapters over the outbox come later.
 */
export {
  FULL_SET_FORMAT,
  FullSetEnd,
  FullSetHeader,
  FullSetLine,
  FullSetPerson,
  FullSetSuppression,
  toFullSetPerson,
} from './full-set.js';
export {
  DEFAULT_MAX_ROWS_PER_SECOND,
  DEFAULT_PAGE_SIZE,
  exportFullSet,
  type ExportFullSetOptions,
  type FullSetProgress,
  type FullSetResult,
} from './full-set.job.js';
export {
  exportFullSetToFile,
  registerLinkageCommands,
  type FullSetFileResult,
  type LinkageCommandDeps,
} from './linkage.cli.js';
