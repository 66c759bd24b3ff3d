export const PACKAGE_NAME = '@openretina/hub';
