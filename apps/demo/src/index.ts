export const PACKAGE_NAME = 'app-demo';
