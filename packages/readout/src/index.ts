export const PACKAGE_NAME = '@openretina/readout';
