export const PACKAGE_NAME = '@openretina/trainer';
