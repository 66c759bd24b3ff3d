export const PACKAGE_NAME = '@openretina/backend';
