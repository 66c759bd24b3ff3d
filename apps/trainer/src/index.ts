export const PACKAGE_NAME = 'app-trainer';
