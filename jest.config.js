// Two projects: `unit` (pure code, any user) and `e2e` (network namespaces, root only).
// Workspace packages map to their sources so tests never need a build of the code they test.
const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  setupFiles: ['reflect-metadata'],
  moduleNameMapper: {
    '^@mwan/(core|iproute2|engine|cli|lab|health)$': '<rootDir>/packages/$1/src/index.ts',
    '^@mwan/strategy-(.+)$': '<rootDir>/strategies/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/packages/*/src/**/*.test.ts',
        '<rootDir>/strategies/*/src/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      // testTimeout is not read per project: each e2e file sets its own with jest.setTimeout().
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
