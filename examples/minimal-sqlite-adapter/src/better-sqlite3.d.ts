// The few better-sqlite3 members this example uses (the workspace has no @types/better-sqlite3).
declare module 'better-sqlite3' {
  namespace Database {
    interface Statement {
      readonly reader: boolean;
      raw(on?: boolean): this;
      columns(): { name: string }[];
      run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
    }
    interface Database {
      prepare(sql: string): Statement;
      pragma(source: string): unknown;
      function(name: string, fn: (...args: unknown[]) => unknown): this;
      defaultSafeIntegers(on?: boolean): this;
      unsafeMode(on?: boolean): this;
      close(): this;
    }
  }
  const Database: (new (filename: string) => Database.Database) & {
    SqliteError: new (message: string, code: string) => Error;
  };
  export default Database;
}
