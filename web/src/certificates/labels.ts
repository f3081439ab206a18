/** The certificate codes and their labels, as in src/certificates/certificate.ts. */

export const CERTIFICATE_TYPES = [
  'residentCopy',
  'removedRecordCopy',
  'itemCertificate',
  'moveOutCertificate',
] as const;
export type CertificateType = (typeof CERTIFICATE_TYPES)[number];

export const TYPE_LABEL: Readonly<Record<CertificateType, string>> = {
  residentCopy: '住民票の写し',
  removedRecordCopy: '除票の写し',
  itemCertificate: '住民票記載事項証明書',
  moveOutCertificate: '転出証明書',
};

export const CERTIFICATE_ITEMS = [
  'householdHead',
  'honseki',
  'residentCode',
  'myNumber',
  'nationality',
  'foreignCategory',
  'residenceStatus',
  'residenceCardNo',
  'aliasHistory',
] as const;
export type CertificateItem = (typeof CERTIFICATE_ITEMS)[number];

export const ITEM_LABEL: Readonly<Record<CertificateItem, string>> = {
  householdHead: '世帯主・続柄',
  honseki: '本籍・筆頭者',
  residentCode: '住民票コード',
  myNumber: '個人番号',
  nationality: '国籍・地域（外国人住民）',
  foreignCategory: '第30条の45に規定する区分（外国人住民）',
  residenceStatus: '在留資格・在留期間・在留期間の満了の日（外国人住民）',
  residenceCardNo: '在留カード等の番号（外国人住民）',
  aliasHistory: '通称の記載及び削除に関する事項（外国人住民）',
};

export type RequesterType = 'self' | 'government' | 'thirdParty';

export const REQUESTER_LABEL: Readonly<Record<RequesterType, string>> = {
  self: '本人・同一世帯員（本人等）',
  government: '国・地方公共団体（公用）',
  thirdParty: '第三者',
};
