export { runConformanceSuite } from './run-suite.js';
export type { SuiteOptions } from './run-suite.js';
export { selectAdapters } from './select-adapters.js';
export { conformanceCases, renderCaseList } from './case-table.js';
export { defineCases, areas } from './case.js';
export type { Area, CaseContext, ColumnSpec, ConformanceCase } from './case.js';
export { dialects } from './dialects.js';
export type { ColumnType, DialectSql, ExpectedError } from './dialects.js';
export type {
  AdapterDescriptor,
  Capabilities,
  Capability,
  CapabilityName,
  Dialect,
  OpenOptions,
} from './descriptor.js';
