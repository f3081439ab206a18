/** The register module (住民記録): what other modules and the app may use. */
export { ChangeService, type Actor, type ChangeResult } from './change.service.js';
export { ResidentService, type Inquiry, type HouseholdView, type SearchResult } from './resident.service.js';
export { registryRoutes } from './resident.routes.js';
export { ensureMunicipality, findMunicipalityName, countResidents } from './resident.repository.js';
export { ResidentRecord, displayName, displayReading, formatAddress, STATUS_LABEL } from './resident.js';
export {
  loadCertificateSource,
  type CertificateSource,
  type CertificateSubject,
  type SubjectHistoryEntry,
} from './record-source.js';
export { REASONS } from './change.js';
export { StatisticsService, annualStatistics } from './statistics.service.js';
export { registerStatisticsCommands } from './statistics.cli.js';
export {
  StatisticsQuery,
  formatStatistics,
  type AnnualStatistics,
  type AreaFigures,
  type FlowFigures,
  type HouseholdCounts,
  type KindCounts,
  type SexKindCounts,
} from './statistics.js';
export { issuesToError } from './parse.js';
export {
  generatePopulation,
  DEFAULT_POPULATION_RESIDENTS,
  DEFAULT_POPULATION_SEED,
  type GeneratedHousehold,
  type PopulationOptions,
} from './population.js';
export {
  loadPopulation,
  type LoadPhase,
  type LoadPopulationOptions,
  type LoadSummary,
} from './population.loader.js';
export { populate, registerPopulationCommands } from './population.cli.js';
export type { AuditSettings } from './access.js';
export { readRegisterPage, type RegisterPageOptions } from './full-set.source.js';
