/**
 * Protection (抑止 and 支援措置): what other modules and the app may use.
 *
 * Enforcement for other services: `checkSuppression` (inside their transaction; or `suppressionLookUp`,
 * whose statement they send with others and whose `judge` they give its rows), `issuanceBlock` and
 * `consumeCaseRelease` (certificates); display: `suppressionsByPerson`; monitoring: `findProtectedPersons`.
 */
export { findProtectedPersons, insertSupportMeasure } from './support-measure.repository.js';
export {
  ISSUANCE_SUPPRESSION_TOPIC,
  SuppressionService,
  checkSuppression,
  suppressionLookUp,
  suppressionsByPerson,
  type ProtectionSettings,
  type SuppressionCheck,
  type SuppressionLookUp,
} from './suppression.service.js';
export {
  DEADLINE_NOTICE_DAYS,
  SUPPORT_MEASURE_TRANSFER_TOPIC,
  SupportMeasureService,
  consumeCaseRelease,
  issuanceBlock,
  raiseSupportMeasureAlerts,
  supportMeasureDeadlines,
} from './support-measure.service.js';
export {
  PROCESS_LABEL,
  SUPPRESSED_PROCESSES,
  SuppressedProcess,
  SuppressionLevel,
  type SuppressionHit,
  type SuppressionView,
} from './suppression.js';
export {
  BLOCKED_SERVICES,
  BLOCKED_SERVICE_LABEL,
  BlockedService,
  extendedTermOf,
  extensionWindowOf,
  termEndOf,
  type SupportMeasureDeadline,
  type SupportMeasureDetails,
  type SupportMeasureSummary,
} from './support-measure.js';
export { PROTECTION_ERROR_STATUS } from './errors.js';
export { protectionRoutes, type ProtectionRouteOptions } from './protection.routes.js';
