export const PACKAGE_NAME = '@openretina/models';
