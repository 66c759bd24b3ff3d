export const PACKAGE_NAME = '@openretina/data-io';
