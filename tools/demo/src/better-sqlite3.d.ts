// The few members of better-sqlite3 the demo uses (@types/better-sqlite3 is not installed).
declare module 'better-sqlite3' {
  interface Statement {
    run(...params: unknown[]): unknown;
    get(...params: unknown[]): unknown;
  }
  class Database {
    constructor(filename: string);
    pragma(source: string): unknown;
    exec(sql: string): this;
    prepare(sql: string): Statement;
    transaction(fn: () => void): () => void;
    close(): void;
  }
  export default Database;
}
