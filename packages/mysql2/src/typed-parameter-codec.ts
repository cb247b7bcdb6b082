import type { ValueCodec } from '@unblock/core';
import { mysql2, mysql2Internal } from './mysql2-internals.js';

/** What `mysql.TypedParameter.LONG(5)` and the other factories return. */
export interface TypedParameterValue {
  readonly type: number;
  readonly value: unknown;
  readonly unsigned: boolean;
}

type TypedParameterClass = new (type: number, value: unknown, unsigned: boolean) => object;

/**
 * mysql2's TypedParameter class: the factories are public (`mysql.TypedParameter`), the class is
 * not, and `encode_parameter.js` checks `instanceof` it, so the worker must rebuild an instance
 * of this very class.
 */
const TypedParameter = mysql2Internal<{ TypedParameter: TypedParameterClass }>(
  'lib/packets/typed_parameter.js',
).TypedParameter;

const JSON_TYPE = (mysql2.Types as Record<string, number>).JSON;

/** The codec's name, the same on both sides. */
const TYPED_PARAMETER_CODEC = 'mysql2.TypedParameter';

/** [type, value, unsigned, value is a Buffer]: structured clone turns a Buffer into a Uint8Array. */
type Wire = [number, unknown, boolean, boolean];

function isTypedParameter(value: unknown): value is TypedParameterValue {
  if (value instanceof TypedParameter) return true;
  // One made by another copy of mysql2 (the caller's own `mysql2` package) is just as good: the
  // worker rebuilds it with this copy's class.
  return (
    typeof value === 'object' &&
    value !== null &&
    value.constructor?.name === 'TypedParameter' &&
    typeof (value as TypedParameterValue).type === 'number'
  );
}

/**
 * How a TypedParameter crosses to the worker (registered on both sides). mysql2 encodes it only
 * when the statement is sent, in the worker, from its `type`, `value` and `unsigned`, so those
 * three are all that cross. A JSON parameter's object is stringified here, as mysql2's encoder
 * would (`JSON.stringify`, `toJSON()` methods included): the object itself may not be cloneable,
 * and a clone would lose what `toJSON()` does (a Buffer's, for one).
 */
export const typedParameterCodec: ValueCodec<TypedParameterValue> = {
  name: TYPED_PARAMETER_CODEC,
  is: isTypedParameter,
  encode: ({ type, value, unsigned }): Wire => {
    if (Buffer.isBuffer(value)) return [type, value, unsigned, true];
    if (type === JSON_TYPE && value !== null && typeof value !== 'string') {
      return [type, JSON.stringify(value), unsigned, false];
    }
    return [type, value, unsigned, false];
  },
  decode: (data) => {
    const [type, value, unsigned, isBuffer] = data as Wire;
    const bytes = value as Uint8Array;
    return new TypedParameter(
      type,
      isBuffer ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : value,
      unsigned,
    ) as TypedParameterValue;
  },
};
