export const PACKAGE_NAME = '@openretina/insilico';
