/** The certificates module (証明書): what other modules and the app may use. */
export {
  CERTIFICATE_ITEMS,
  CERTIFICATE_TITLE,
  CERTIFICATE_TYPES,
  CERTIFICATION_SENTENCE,
  CertificateItem,
  CertificateRequest,
  CertificateType,
  ITEM_LABEL,
  Requester,
  type CertificateRequestInput,
} from './certificate.js';
export {
  CertificateService,
  IssuanceQuery,
  VoidInput,
  type CertificateSettings,
  type IssuanceView,
  type IssuancePage,
  type IssuedCertificate,
} from './certificate.service.js';
export {
  certificateFontPath,
  loadCertificateFont,
  IPAMJ_PATH,
  type CertificateFont,
} from './certificate.font.js';
export { renderCertificate, type RenderInput, type RenderedCertificate } from './certificate.render.js';
export {
  certificateRoutes,
  CERTIFICATE_ERROR_STATUS,
  type CertificateRouteOptions,
} from './certificates.routes.js';
