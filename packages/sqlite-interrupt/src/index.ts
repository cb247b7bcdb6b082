export { CONNECTION_ID_SQL } from './sqlite-interrupt.js';
export type { SqliteInterrupt } from './sqlite-interrupt.js';
export { loadSqliteInterrupt, sqliteInterruptLoadError } from './load-sqlite-interrupt.js';
