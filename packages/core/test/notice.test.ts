import { afterAll, describe, expect, it } from 'vitest';
import { pool as makePool, sleep } from './helpers.js';

describe('notices (OpenContext.notify)', () => {
  const pool = makePool({ threads: 1 });
  const muxed = makePool({ threads: 1, multiplexSessions: true });
  afterAll(() => Promise.all([pool.close(), muxed.close()]));

  for (const [name, p] of [
    ['a port of its own', pool],
    ['a mux', muxed],
  ] as const) {
    it(`reach the session's listener in order with the answers, values kept (${name})`, async () => {
      const s = await p.openSession();
      const seen: string[] = [];
      const data: unknown[] = [];
      // Calls still unanswered when each notice arrives: the one before it was answered first,
      // the one that sent it is answered after it.
      s.onNotice((event, value) => {
        seen.push(`${event}, ${s.inFlight} in flight`);
        data.push(value);
      });
      const first = s.call('echo', [1]);
      const second = s.call('notify', [
        'lost',
        { buf: Buffer.from('x'), err: new RangeError('gone') },
        20,
      ]);
      expect(await Promise.all([first, second])).toEqual([1, 'answered']);
      await sleep(100);
      expect(seen).toEqual(['lost, 1 in flight', 'lost later, 0 in flight']);
      const { buf, err } = data[0] as { buf: Buffer; err: RangeError };
      expect(Buffer.isBuffer(buf)).toBe(true);
      expect(err).toBeInstanceOf(RangeError);
      expect(err.message).toBe('gone');
      s.onNotice(undefined);
      await s.call('notify', ['ignored']);
      expect(seen).toHaveLength(2);
      await s.close();
    });
  }

  for (const [name, p] of [
    ['a port of its own', pool],
    ['a mux', muxed],
  ] as const) {
    it(`keeps a notice sent while the connection opens until the session exists (${name})`, async () => {
      for (let i = 0; i < 10; i++) {
        const seen: unknown[] = [];
        const s = await p.openSession({ notifyAtOpen: `early ${i}` });
        s.onNotice((event, value) => seen.push([event, value]));
        expect(await s.call('echo', [i])).toBe(i);
        await sleep(20);
        expect(seen).toEqual([['opening', `early ${i}`]]);
        await s.close();
      }
    });

    it(`counts a notice sent while the connection opens, so answers by lane stay in order (${name})`, async () => {
      // The session is made after the notice was posted: it must not count it as a lane answer.
      for (let i = 0; i < 5; i++) {
        const s = await p.openSession({ notifyAtOpen: `early ${i}` });
        for (let k = 0; k < 50; k++) expect(await s.call('echo', [k])).toBe(k);
        await s.close();
      }
    });
  }
});
