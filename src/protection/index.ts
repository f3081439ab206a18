/**
 * Protection (抑止 and 支援措置). For now: who is a support-measure subject, which monitoring and (issue 4)
 * certificate issuance need.
 */
export { findProtectedPersons, insertSupportMeasure } from './support-measure.repository.js';
