export const PACKAGE_NAME = '@openretina/layers';
