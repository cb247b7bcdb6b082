import { afterAll, describe, expect, it } from 'vitest';
import { offload, poolOf, registerErrorClass } from '@unblock/core';

/** As test/fixtures/offload-errors.mjs defines it: a read-only `code` on its prototype. */
class ReadOnlyCodeError extends Error {}
Object.defineProperty(ReadOnlyCodeError.prototype, 'code', { value: 'E_DEFAULT' });
registerErrorClass(ReadOnlyCodeError, 'ReadOnlyCodeError');

type Fixture = Record<
  | 'ownCause'
  | 'mutualCause'
  | 'aggregateOfItself'
  | 'functionMessage'
  | 'symbolName'
  | 'objectStack'
  | 'throwingGetters'
  | 'ownName'
  | 'readOnlyCode'
  | 'aborted'
  | 'timedOut'
  | 'ok',
  () => string
>;

describe('errors thrown in a worker that are hard to send back', () => {
  const mod = offload<Fixture>(new URL('./fixtures/offload-errors.mjs', import.meta.url), {
    threads: 1,
  });
  const thrown = (call: Promise<unknown>): Promise<Error> =>
    call.then(
      () => expect.fail('resolved'),
      (err: unknown) => err as Error,
    );
  afterAll(() => mod[Symbol.asyncDispose]());

  it('cuts a cause chain where it leads back, rather than never answering', async () => {
    const own = await thrown(mod.ownCause());
    expect(own.message).toBe('own cause');
    expect(own.cause).toBe('Error: own cause');
    const mutual = await thrown(mod.mutualCause());
    expect(mutual.message).toBe('a');
    expect(mutual.cause).toBeInstanceOf(Error);
    expect((mutual.cause as Error).message).toBe('b');
    expect((mutual.cause as Error).cause).toBe('Error: a');
    const aggregate = (await thrown(mod.aggregateOfItself())) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0]).toBeInstanceOf(TypeError);
    expect(aggregate.errors[1]).toBe('AggregateError: gathers itself');
    expect(await mod.ok()).toBe('still here');
  }, 10_000);

  it('sends a message, name or stack that cannot be cloned as text, and keeps its worker', async () => {
    const message = await thrown(mod.functionMessage());
    expect(message.message).toBe('() => 1');
    const name = await thrown(mod.symbolName());
    expect(name.name).toBe('Symbol(Named)');
    expect(name.stack).toMatch(/^Symbol\(Named\): symbol name\n/);
    const stack = await thrown(mod.objectStack());
    expect(stack).toMatchObject({ message: 'object stack', code: 'E_STACK' });
    expect(stack.stack).toMatch(/^Error: object stack\n/);
    expect(await mod.ok()).toBe('still here');
    expect(poolOf(mod).stats().threads).toBe(1);
  }, 10_000);

  it('keeps the error thrown, not the one a getter of it throws', async () => {
    const err = await thrown(mod.throwingGetters());
    expect(err).toMatchObject({ message: 'getters', code: 'E_GETTERS' });
    expect(Object.keys(err)).toEqual(['code']);
    expect(err.cause).toBeUndefined();
  });

  it('keeps own properties as they were: an own name enumerable, a class read-only code', async () => {
    const named = await thrown(mod.ownName());
    expect(named.name).toBe('OwnNameError');
    expect(Object.keys(named)).toEqual(['name']);
    const code = await thrown(mod.readOnlyCode());
    expect(code).toBeInstanceOf(ReadOnlyCodeError);
    expect(code).toMatchObject({ message: 'read-only code', code: 'E_OWN' });
    expect(Object.keys(code)).toEqual(['code']);
  });

  it('rebuilds a DOMException as one, with its name and code (AbortError, TimeoutError)', async () => {
    const aborted = await thrown(mod.aborted());
    expect(aborted).toBeInstanceOf(DOMException);
    expect(aborted).toMatchObject({ name: 'AbortError', code: DOMException.ABORT_ERR });
    const timedOut = await thrown(mod.timedOut());
    expect(timedOut).toBeInstanceOf(DOMException);
    expect(timedOut).toMatchObject({
      name: 'TimeoutError',
      message: 'The operation timed out',
      code: DOMException.TIMEOUT_ERR,
    });
    expect(timedOut.stack).toMatch(/^TimeoutError: The operation timed out\n/);
  });
});
