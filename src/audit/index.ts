/** The audit module (アクセスログ・監視): what other modules and the app may use. */
export {
  AUDIT_FUNCTIONS,
  AuditFunction,
  AuditOutcome,
  GENESIS_HASH,
  canonicalJson,
  chainHash,
  entryNo,
  protectCriteria,
  protectValue,
  type AccessLogEntry,
  type AccessLogInput,
  type AuditContext,
  type MonitoringConfig,
} from './access-log.js';
export {
  appendAccessLog,
  searchAccessLog,
  AccessLogQuery,
  AccessLogPage,
  AccessLogView,
} from './access-log.service.js';
export {
  auditKeyFromPem,
  keyIdOf,
  loadOrCreateAuditKey,
  publicKeyFromPem,
  publicKeyPem,
  type AuditKey,
} from './audit-key.js';
export { sealAll, sealCheckpoint, startCheckpointTimer, type Checkpoint } from './checkpoint.js';
export {
  formatReport,
  verifyAccessLog,
  TAMPER_KINDS,
  type ChainVerification,
  type TamperKind,
  type TamperProblem,
  type VerificationReport,
} from './verify.js';
export {
  ALERT_RULES,
  ALERT_RULE_LABEL,
  AlertRule,
  evaluatePeriodicRules,
  offHoursReason,
  raiseAlert,
  type EntryFacts,
} from './monitoring.js';
export { acknowledgeAlert, listAlerts, AlertQuery, AlertView, AlertPage } from './alert.service.js';
export { AuditService, type AuditServiceDeps } from './audit.service.js';
export { auditRoutes, type AuditRouteOptions } from './audit.routes.js';
export { registerAuditCommands, type AuditCommandDeps } from './audit.cli.js';
