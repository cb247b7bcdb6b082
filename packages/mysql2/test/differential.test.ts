// The same statements through mysql2/promise directly and through @unblock/mysql2: rows, fields,
// headers and errors must be identical.
import rawMysql from 'mysql2/promise';
import mysql, { type Connection } from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DB,
  DRIVERS,
  dbAvailable,
  errorView,
  expectSameRows,
  outcome,
  fieldView,
  resultView,
  sameError,
  sameResult,
  settle,
  type Sides,
} from './helpers.js';

const T = `ub_diff_${process.pid}`;

type AnyConnection = rawMysql.Connection | Connection;
type Pair = readonly [rawMysql.Connection, Connection];
const pairs = new Map<string, Promise<Pair>>();

/** A mysql2/promise connection and a drop-in one with these options, kept for the whole file. */
function pair(options: Record<string, unknown> = {}): Promise<Pair> {
  const key = JSON.stringify(options);
  let p = pairs.get(key);
  if (p === undefined) {
    p = (async () =>
      [
        await rawMysql.createConnection({ ...DB, ...options }),
        await mysql.createConnection({ ...DB, ...options }),
      ] as const)();
    pairs.set(key, p);
  }
  return p;
}

/**
 * Both connections of a {@link pair} must resolve `run` to the same rows and fields. Resolves
 * with the drop-in's rows.
 */
async function sameRows(
  run: (c: AnyConnection) => Promise<readonly [unknown, unknown]>,
  options: Record<string, unknown> = {},
): Promise<unknown> {
  const connections: Sides<AnyConnection> = await pair(options);
  const [rows] = await sameResult(connections, async (c) => resultView(await run(c)));
  return rows;
}

/**
 * Both connections of the default {@link pair} must reject `run` with the same error. Resolves
 * with the drop-in's error.
 */
async function sameStatementError(run: (c: AnyConnection) => Promise<unknown>): Promise<unknown> {
  const connections: Sides<AnyConnection> = await pair();
  return sameError(connections, run);
}

describe.skipIf(!dbAvailable)('differential: mysql2/promise vs @unblock/mysql2', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.query(`CREATE TABLE ${T} (
      id INT PRIMARY KEY AUTO_INCREMENT,
      i INT, u INT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED, dec_ DECIMAL(20,6),
      f FLOAT, d DOUBLE, vc VARCHAR(100), tx TEXT, bl BLOB, vb VARBINARY(16),
      dt DATE, dtm DATETIME(3), ts TIMESTAMP NULL, js JSON, tm TIME, yr YEAR, bit_ BIT(8),
      en ENUM('a','b'), geo GEOMETRY NULL, st SET('x','y','z'), UNIQUE KEY uq (vc)
    ) CHARACTER SET utf8mb4`);
    await c.query(`INSERT INTO ${T} (i,u,big,ubig,dec_,f,d,vc,tx,bl,vb,dt,dtm,ts,js,tm,yr,bit_,en,geo,st) VALUES
      (1, 4000000000, 9007199254740993, 18446744073709551615, 12345678901234.123456, 1.5, 3.141592653589793, 'héllo 😀', 'text', x'00ff10', x'0102', '2024-02-29', '2024-02-29 13:14:15.678', '2024-03-01 00:00:01', '{"a":[1,2,{"b":null}],"c":"😀"}', '12:34:56', 2024, b'10101010', 'a', ST_GeomFromText('POINT(1.5 -2)'), 'x,z'),
      (-5, 0, -9007199254740993, 0, -0.5, -2.25, 1e300, 'second', '', x'', x'', '1970-01-01', '1999-12-31 23:59:59', NULL, '[]', '-01:00:00', 1999, b'0', 'b', ST_GeomFromText('POLYGON((0 0, 4 0, 4 3, 0 0))'), ''),
      (NULL, NULL, 42, 42, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    await c.end();
  });

  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.end();
    for (const p of pairs.values()) {
      const [raw, ours] = await p;
      await raw.end();
      await ours.end();
    }
  });

  it('SELECT of every column type', async () => {
    const rows = (await sameRows((c) => c.query(`SELECT * FROM ${T} ORDER BY id`))) as unknown[];
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ geo: { x: 1.5, y: -2 }, st: 'x,z' });
    expect(rows[1]).toMatchObject({ st: '' });
  });

  it('execute (binary protocol) of every column type', async () => {
    await sameRows((c) => c.execute(`SELECT * FROM ${T} WHERE id >= ? ORDER BY id`, [1]));
  });

  for (const options of [
    { supportBigNumbers: true },
    { supportBigNumbers: true, bigNumberStrings: true },
    { dateStrings: true },
    { dateStrings: ['DATE'] },
    { decimalNumbers: true },
    { jsonStrings: true },
    { rowsAsArray: true },
    { timezone: 'Z' },
    { timezone: '+05:30' },
  ]) {
    it(`options ${JSON.stringify(options)}: query and execute`, async () => {
      await sameRows((c) => c.query(`SELECT * FROM ${T} ORDER BY id`), options);
      await sameRows((c) => c.execute(`SELECT * FROM ${T} ORDER BY id`), options);
    });
  }

  it('options {"typeCast":false}: query, and execute, which fails in mysql2 too', async () => {
    const sql = `SELECT * FROM ${T} ORDER BY id`;
    await sameRows((c) => c.query(sql), { typeCast: false });
    // Without a type cast, mysql2's binary-protocol parser reads every column as length-coded,
    // misreads this table's fixed-width ones, fails and closes its connection: the drop-in must
    // fail alike. Connections of their own, so the shared ones stay open for the tests after.
    await sameError(DRIVERS, async (driver) => {
      const conn = await driver.createConnection({ ...DB, typeCast: false });
      try {
        return await conn.execute(sql);
      } finally {
        await conn.end();
      }
    });
  });

  it('per-query rowsAsArray and nestTables (true and a separator)', async () => {
    const sql = `SELECT a.id, a.vc, b.id, b.big, 1 + 1 AS two FROM ${T} a JOIN ${T} b ON b.id = a.id ORDER BY a.id`;
    await sameRows((c) => c.query({ sql, rowsAsArray: true }));
    const nested = (await sameRows((c) => c.query({ sql, nestTables: true }))) as Record<
      string,
      unknown
    >[];
    expect(Object.keys(nested[0])).toEqual(['a', 'b', '']);
    await sameRows((c) => c.query({ sql, nestTables: '_' }));
    await sameRows((c) => c.execute({ sql, nestTables: true }));
  });

  it('large results, which cross while mysql2 still reads them, in every row shape', async () => {
    const sql = `WITH RECURSIVE d (k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < 199),
      seq (n) AS (SELECT a.k * 200 + b.k + 1 FROM d a CROSS JOIN d b)
      SELECT n, CONCAT('row ', n) AS s, n / 7 AS q, TIMESTAMP('2024-01-01') + INTERVAL n SECOND AS t,
        IF(n % 3 = 0, NULL, n * 1.5) AS maybe FROM seq WHERE n <= 20000 ORDER BY n`;
    const rows = (await sameRows((c) => c.query(sql))) as { n: number }[];
    expect(rows).toHaveLength(20_000);
    expect(rows[19_999].n).toBe(20_000);
    await sameRows((c) => c.query({ sql, rowsAsArray: true }));
    await sameRows((c) => c.query({ sql, nestTables: true }));
    await sameRows((c) => c.execute(sql));
  });

  // Past its first chunk, a large text result is read by the worker straight into columns
  // (ColumnarRows): every type it reads that way, under each option that changes a value,
  // must come out as mysql2 reads it; a result with a column it does not read that way (BLOB,
  // JSON, BIT, GEOMETRY) stays with mysql2's parser.
  it('large results of every column type, read past their first chunk, under each option', async () => {
    const read = `id, i, u, big, ubig, dec_, f, d, vc, tx, dt, dtm, ts, tm, yr, en, st,
      CONCAT(vc, REPEAT('x', n % 50)) AS grown, REPEAT('é', n % 4) AS accents,
      REPEAT('a', n % 300) AS long_, n`;
    const sql = (
      columns: string,
    ) => `WITH RECURSIVE d (k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < 39),
      seq (n) AS (SELECT a.k * 40 + b.k + 1 FROM d a CROSS JOIN d b)
      SELECT ${columns} FROM ${T} CROSS JOIN seq ORDER BY n, id`;
    const rows = (await sameRows((c) => c.query(sql(read)))) as unknown[];
    expect(rows).toHaveLength(4_800);
    for (const options of [
      { decimalNumbers: true },
      { timezone: 'Z' },
      { timezone: '+05:30' },
      { dateStrings: true },
      { supportBigNumbers: true },
      { typeCast: false },
    ])
      await sameRows((c) => c.query(sql(read)), options);
    await sameRows((c) => c.query({ sql: sql(read), nestTables: true }));
    await sameRows((c) => c.query(sql('*, n')));
  });

  it('duplicate column names keep the last value, as mysql2 does', async () => {
    await sameRows((c) => c.query(`SELECT 1 AS x, 2 AS x, 'three' AS y`));
  });

  it('values: placeholders, Buffers, Dates, NULL, arrays, raw()', async () => {
    await sameRows((c) =>
      c.query('SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f', [
        'x',
        Buffer.from([1, 2, 3]),
        new Date(Date.UTC(2020, 0, 2, 3, 4, 5)),
        null,
        12.5,
        'emoji 😀',
      ]),
    );
    await sameRows((c) => c.query('SELECT ? IN (?) AS hit', [2, [1, 2, 3]]));
    await sameRows((c) => c.query('SELECT ? AS now_is_raw', [mysql.raw('1 + 1')]));
    await sameRows((c) => c.execute('SELECT ? AS a, ? AS b', [Buffer.from('zz'), 7]));
  });

  it('TypedParameter values: execute, prepare, query and errors match mysql2', async () => {
    const T = mysql.TypedParameter;
    expect(T).toBe(rawMysql.TypedParameter);
    const values = [
      T.LONGLONG(9007199254740993n),
      T.BIGINT.unsigned('18446744073709551615'),
      T.TINY.unsigned(200),
      T.DOUBLE('1.5'),
      T.FLOAT(0.5),
      T.DECIMAL('12.345'),
      T.VARCHAR('héllo 😀'),
      T.VARCHAR(Buffer.from('bytes')),
      T.BLOB(Buffer.from([0, 255, 16])),
      T.DATETIME(new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678))),
      T.DATE('2024-02-29'),
      T.TIME('-12:34:56.5'),
      T.TIME(90061001),
      T.JSON({ a: [1, { b: null }], buf: Buffer.from('a'), at: new Date(0) }),
      T.JSON('[1,2]'),
      T.NULL(),
      T.LONG(null),
    ];
    const sql = `SELECT ${values.map((_, i) => `? AS c${i}`).join(', ')}`;
    await sameRows((c) => c.execute(sql, values));
    await sameRows(async (c) => {
      const stmt = await c.prepare('SELECT ? AS a, ? AS b');
      try {
        return await stmt.execute([T.SMALLINT(-7), T.BLOB(Buffer.from('xy'))]);
      } finally {
        await stmt.close();
      }
    });
    // mysql2's text protocol has no typed parameters: it escapes them as objects.
    await sameRows((c) => c.query('SELECT ? AS a', [T.LONG(3)]));
    await sameStatementError((c) => c.execute('SELECT ? AS a', [T.TIME('not a time')]));
    await sameStatementError((c) => c.execute('SELECT ? AS a', [[T.INT.unsigned(4000000000)]]));
  });

  it('namedPlaceholders, per connection and per query', async () => {
    await sameRows((c) => c.query('SELECT :a AS a, :b AS b', { a: 1, b: 'two' }), {
      namedPlaceholders: true,
    });
    await sameRows((c) => c.execute('SELECT :a AS a', { a: 5 }), { namedPlaceholders: true });
    await sameRows((c) => c.query({ sql: 'SELECT :a AS a', namedPlaceholders: true }, { a: 3 }));
  });

  it('multipleStatements and CALL results', async () => {
    await sameRows((c) => c.query(`SELECT 1 AS a; SELECT * FROM ${T} WHERE id = 1; SET @x = 1`), {
      multipleStatements: true,
    });
    await sameRows((c) => c.query(`SET @y = 1; SET @z = 2`), { multipleStatements: true });
    const admin = await rawMysql.createConnection(DB);
    const rowsProc = `${T}_rows`;
    const twoProc = `${T}_two`;
    const noRowsProc = `${T}_none`;
    try {
      await admin.query(`CREATE PROCEDURE ${rowsProc} (IN lo INT)
        BEGIN SELECT id, vc, big, dtm, geo, st FROM ${T} WHERE id >= lo ORDER BY id; END`);
      await admin.query(`CREATE PROCEDURE ${twoProc} ()
        BEGIN SELECT 1 AS one; SELECT 'b' AS two, NULL AS nothing; END`);
      await admin.query(`CREATE PROCEDURE ${noRowsProc} (INOUT v INT) BEGIN SET v = v * 2; END`);
      // A result set, then the CALL's own ResultSetHeader (mysql2's ProcedureCallPacket).
      const call = (await sameRows((c) => c.query(`CALL ${rowsProc}(?)`, [1]))) as unknown[];
      expect(call).toHaveLength(2);
      expect(call[0]).toHaveLength(3);
      expect(call[1]).toMatchObject({ affectedRows: 0, insertId: 0, warningStatus: 0 });
      await sameRows((c) => c.query({ sql: `CALL ${rowsProc}(2)`, rowsAsArray: true }));
      await sameRows((c) => c.query({ sql: `CALL ${rowsProc}(1)`, nestTables: true }));
      await sameRows((c) => c.execute(`CALL ${rowsProc}(?)`, [1]));
      const two = (await sameRows((c) => c.query(`CALL ${twoProc}()`))) as unknown[];
      expect(two).toHaveLength(3);
      await sameRows((c) => c.execute(`CALL ${twoProc}()`));
      // No result set: just the header.
      await sameRows((c) => c.query(`SET @v = 21; CALL ${noRowsProc}(@v); SELECT @v AS v`), {
        multipleStatements: true,
      });
      await sameRows((c) => c.query(`CALL ${noRowsProc}(@nothing)`));
      // An error raised inside the procedure.
      const err = await sameStatementError((c) => c.query(`CALL ${T}_missing()`));
      expect(errorView(err).code).toBe('ER_SP_DOES_NOT_EXIST');
    } finally {
      for (const name of [rowsProc, twoProc, noRowsProc])
        await admin.query(`DROP PROCEDURE IF EXISTS ${name}`);
      await admin.end();
    }
  });

  it('INSERT / UPDATE / DELETE headers (insertId, affectedRows, changedRows, info)', async () => {
    const [raw, ours] = await pair();
    for (const c of [raw, ours])
      await c.query(
        `CREATE TEMPORARY TABLE IF NOT EXISTS tmp_h (id INT PRIMARY KEY AUTO_INCREMENT, v INT)`,
      );
    await sameRows((c) => c.query(`INSERT INTO tmp_h (v) VALUES (1), (2), (3)`));
    await sameRows((c) => c.query(`UPDATE tmp_h SET v = 2 WHERE v <= 2`));
    await sameRows((c) => c.execute(`DELETE FROM tmp_h WHERE v = ?`, [3]));
    await sameRows((c) => c.query(`SELECT * FROM tmp_h WHERE 1 = 0`));
  });

  it('transactions', async () => {
    const [raw, ours] = await pair();
    for (const c of [raw, ours])
      await c.query(`CREATE TEMPORARY TABLE IF NOT EXISTS tmp_tx (v INT) ENGINE=InnoDB`);
    await sameRows(async (c) => {
      await c.beginTransaction();
      await c.query('INSERT INTO tmp_tx VALUES (1)');
      await c.rollback();
      await c.beginTransaction();
      await c.query('INSERT INTO tmp_tx VALUES (2)');
      await c.commit();
      return c.query('SELECT * FROM tmp_tx');
    });
  });

  it('prepared statements: prepare / execute / close', async () => {
    const [raw, ours] = await pair();
    const a = await raw.prepare(`SELECT id, vc FROM ${T} WHERE id = ?`);
    const b = await ours.prepare(`SELECT id, vc FROM ${T} WHERE id = ?`);
    const [ra, fa] = await a.execute([1]);
    const [rb, fb] = await b.execute([1]);
    expectSameRows(rb, ra);
    expect(fieldView(fb)).toEqual(fieldView(fa));
    expect(fieldView(b.statement.columns)).toEqual(
      fieldView((a as unknown as { statement: { columns: unknown } }).statement.columns),
    );
    await a.close();
    await b.close();
    ours.unprepare(`SELECT id FROM ${T} WHERE id = ?`);
    expect(await ours.ping()).toBe(true);
  });

  it('errors: ER_PARSE_ERROR, ER_NO_SUCH_TABLE, ER_DUP_ENTRY, ER_BAD_FIELD_ERROR', async () => {
    const parse = await sameStatementError((c) => c.query('SELEC 1'));
    expect(errorView(parse).code).toBe('ER_PARSE_ERROR');
    expect((parse as Error).stack).toContain('differential.test.ts');
    expect(
      errorView(await sameStatementError((c) => c.query('SELECT * FROM no_such_table_xyz'))).code,
    ).toBe('ER_NO_SUCH_TABLE');
    expect(
      errorView(await sameStatementError((c) => c.execute('SELECT nope FROM ' + T))).code,
    ).toBe('ER_BAD_FIELD_ERROR');
    expect(
      errorView(await sameStatementError((c) => c.query(`INSERT INTO ${T} (vc) VALUES ('second')`)))
        .code,
    ).toBe('ER_DUP_ENTRY');
    expect(
      errorView(await sameStatementError((c) => c.execute('SELECT ?', [() => 1] as never))).class,
    ).toBe('TypeError');
  });

  it('connect errors: ER_ACCESS_DENIED_ERROR and ER_BAD_DB_ERROR', async () => {
    for (const options of [
      { ...DB, password: 'wrong-password' },
      { ...DB, database: 'no_such_db_xyz' },
    ])
      await sameError(DRIVERS, (driver) => driver.createConnection(options));
  });

  it('options mysql2 cannot build a config from throw at once, with its errors', async () => {
    const cases: unknown[] = [
      'not a uri',
      'mysql://root@127.0.0.1:99999/test',
      'mysql://root:%zz@127.0.0.1/test',
      { ...DB, ssl: 'no-such-profile' },
      { ...DB, charset: 'no_such_charset' },
      undefined,
      null,
    ];
    for (const options of cases) {
      const [theirs, ours] = await Promise.all(
        DRIVERS.map((driver) => outcome(() => driver.createConnection(options as string))),
      );
      expect(ours, JSON.stringify(options)).toEqual(theirs);
      expect((ours as unknown[])[0]).toBe('threw');
    }
    for (const make of [
      mysql.createPool,
      (o: unknown) => mysql.createPoolCluster().add('N', o as string),
    ])
      expect(() => make(undefined as never)).toThrow(
        "Cannot read properties of undefined (reading 'isServer')",
      );
  });

  it('sync helpers run locally and match mysql2', async () => {
    const [raw, ours] = await pair({ namedPlaceholders: true });
    expect(ours.format('SELECT :a', { a: "it's" })).toBe(raw.format('SELECT :a', { a: "it's" }));
    expect(ours.escape(new Date(0))).toBe(raw.escape(new Date(0)));
    expect(ours.escapeId('a.b')).toBe(raw.escapeId('a.b'));
    expect(mysql.format('?', ['x'])).toBe(rawMysql.format('?', ['x']));
    expect(mysql.Types).toBe(rawMysql.Types);
    expect(ours.config.database).toBe('test');
    expect(typeof ours.threadId).toBe('number');
    expect(() => ours.query('SELECT 1', (() => undefined) as never)).toThrow(
      'Callback function is not available with promise clients.',
    );
  });

  it('end() never rejects, and commands after it fail like mysql2', async () => {
    const a = await rawMysql.createConnection(DB);
    const b = await mysql.createConnection(DB);
    await a.end();
    await b.end();
    // A second end() resolves mysql2's closed-state error (its value, not a rejection).
    const [again, mine] = [await a.end(), await b.end()];
    expect(errorView(mine)).toEqual(errorView(again));
    expect(mine).toBeInstanceOf(Error);
    const ea = await settle(a.query('SELECT 1'));
    const eb = await settle(b.query('SELECT 1'));
    expect(errorView((eb as { error: unknown }).error)).toMatchObject({
      message: errorView((ea as { error: unknown }).error).message,
      fatal: true,
    });
  });
});
