export const PACKAGE_NAME = '@openretina/core';
