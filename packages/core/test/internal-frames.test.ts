import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hideInternalFrames, type LeakEvent, type RemoteHandle, type Session } from '@unblock/core';
import { hideInternalFrames as hideInSource, trimInternalFrames } from '../src/internal-frames.js';
import { pool as makePool } from './helpers.js';
// @ts-expect-error -- a plain JavaScript fixture, without types
import { failing, takeCounter } from './fixtures/internal-frames/adapter.mjs';

const fail = failing as (session: Session, message: string) => Promise<unknown>;
const take = takeCounter as (session: Session) => Promise<RemoteHandle>;

/** The first frame line of a stack. */
const firstFrame = (stack: string | undefined): string =>
  stack?.split('\n').find((line) => line.startsWith('    at ')) ?? '';

describe("stacks begin at the user's call", () => {
  const pool = makePool({ threads: 1, leakDetectionThreshold: 50, leaseKinds: ['counter'] });
  afterAll(() => pool.close());

  async function userCallsAdapter(s: Session): Promise<Error> {
    return (await fail(s, 'boom').catch((e: unknown) => e)) as Error;
  }

  it("leaves core's own frames out; an adapter's until it declares them internal", async () => {
    const s = await pool.openSession();
    const before = await userCallsAdapter(s);
    expect(firstFrame(before.stack)).toContain('at failing (');
    expect(before.stack).not.toMatch(/core\/(?:dist|src)\/session\./);

    hideInternalFrames(new URL('./fixtures/internal-frames/', import.meta.url));
    const after = await userCallsAdapter(s);
    expect(firstFrame(after.stack)).toContain('at userCallsAdapter (');
    expect(after.stack).not.toContain('adapter.mjs');
    // Then the worker's frames, as before.
    const stack = after.stack!;
    expect(stack.indexOf('echo-driver.mjs')).toBeGreaterThan(stack.indexOf('<worker thread>'));
    await s.close();
  });

  it("reports a leak with the stack from the user's call on", async () => {
    hideInternalFrames(new URL('./fixtures/internal-frames/', import.meta.url));
    const s = await pool.openSession();
    const leaked = new Promise<LeakEvent>((resolve) => pool.leaks.once('leak', resolve));
    const userTakes = () => take(s);
    const counter = await userTakes();
    const event = await leaked;
    expect(event.reason).toBe('threshold');
    expect(firstFrame(event.stack)).toContain('at userTakes (');
    expect(event.stack).not.toContain('adapter.mjs');
    await counter.close();
    await s.close();
  });
});

describe('trimInternalFrames', () => {
  const here = new URL('./fixtures/internal-frames/', import.meta.url).href;
  hideInSource(here);
  const internal = `    at method (${here}adapter.mjs:1:1)`;
  const user = '    at handler (file:///app/routes.js:12:9)';

  it('drops internal frames at the top only, keeping the header lines', () => {
    const stack = ['Error: two\nlines', internal, internal, user, internal].join('\n');
    expect(trimInternalFrames(stack)).toBe(['Error: two\nlines', user, internal].join('\n'));
  });

  it('takes a relative directory from the working directory, not as a part of any path', () => {
    hideInSource('relative-internal');
    const ours = `    at f (${join(process.cwd(), 'relative-internal', 'a.js')}:1:1)`;
    const theirs = '    at g (/srv/app/relative-internal/routes.js:3:9)';
    expect(trimInternalFrames(['Error: x', ours, user].join('\n'))).toBe(`Error: x\n${user}`);
    const kept = ['Error: x', theirs, user].join('\n');
    expect(trimInternalFrames(kept)).toBe(kept);
  });

  it('ignores directories given together with one that holds the entry script (a bundle)', () => {
    const entry = realpathSync(process.argv[1]!);
    const bundle = dirname(entry) + sep;
    const sources = join(tmpdir(), 'bundled-app-src') + sep;
    hideInSource(bundle, sources);
    const stack = ['Error: x', `    at a (${entry}:1:1)`, `    at b (${sources}c.ts:2:2)`, user];
    expect(trimInternalFrames(stack.join('\n'))).toBe(stack.join('\n'));
  });

  it('keeps a stack whose frames are all internal, or that has none', () => {
    const all = ['Error: x', internal, internal].join('\n');
    expect(trimInternalFrames(all)).toBe(all);
    expect(trimInternalFrames('Error: x')).toBe('Error: x');
    const clean = ['Error: x', user].join('\n');
    expect(trimInternalFrames(clean)).toBe(clean);
  });
});
