import { defineCases, type CaseContext } from '../case.js';

/**
 * How many times each case runs its query: an adapter may answer a statement it has seen before
 * another way (a cached statement, rows sent as objects instead of with their column names), and
 * `columns` must not change with that.
 */
const CALLS = 6;

/** The `columns` of `sql` run {@link CALLS} times on the shared client. */
async function columnsOfEachCall(
  ctx: CaseContext,
  sql: string,
  params?: unknown[],
): Promise<string[][]> {
  const all: string[][] = [];
  for (let i = 0; i < CALLS; i++) all.push((await ctx.client.query(sql, params)).columns);
  return all;
}

const each = (columns: string[]): string[][] => Array.from({ length: CALLS }, () => columns);

// In the `values` area: what a query's result carries besides its rows.
export const columnsCases = defineCases('values', [
  {
    id: 'values.columns.empty-result',
    title: 'a query that returns no rows still gives its columns, on every call, in order',
    run: async (ctx) => {
      const t = await ctx.table({ a: 'int', b: 'text' });
      ctx
        .expect(await columnsOfEachCall(ctx, `select b, a from ${t} where a > ?`, [100]))
        .toEqual(each(['b', 'a']));
    },
  },
  {
    id: 'values.columns.duplicate-names',
    title: 'columns lists a repeated column name as often as the query has it, on every call',
    run: async (ctx) => {
      ctx
        .expect(await columnsOfEachCall(ctx, 'select 1 as a, 2 as a, 3 as b'))
        .toEqual(each(['a', 'a', 'b']));
    },
  },
]);
