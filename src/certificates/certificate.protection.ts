/**
 * Every call certificates make into the protection module (抑止 and 支援措置), in one place: suppression of
 * the certificate process, the support measure blocking a copy of a person's record, and the officer's
 * release of one case.
 */
export { checkSuppression, consumeCaseRelease, issuanceBlock } from '../protection/index.js';
export type { SuppressionHit } from '../protection/index.js';
