/** HTTP statuses of this module's error codes that are not plain 422 refusals (for the app's one table). */
export const PROTECTION_ERROR_STATUS: Readonly<Record<string, number>> = {
  SUPPRESSED: 409,
  SUPPRESSION_CONFIRMATION_REQUIRED: 409,
  SUPPRESSION_ALREADY_RELEASED: 409,
  SUPPORT_MEASURE_STATUS: 409,
  EXTENSION_NOT_YET_OPEN: 409,
  EXTENSION_PERIOD_PASSED: 409,
  DETAILS_UNREADABLE: 500,
};
