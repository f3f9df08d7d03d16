import { describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors';
import { errorReplacer } from './log';

const asLogged = (err: unknown) => JSON.parse(JSON.stringify({ err }, errorReplacer)) as { err: unknown };

describe('errors in log lines', () => {
  it('keep our code and the database code an AppError was mapped from', () => {
    const err = new AppError('UNAVAILABLE', 'Neo4j unavailable during schema', {
      cause: 'Neo.TransientError.Schema.SchemaModifiedConcurrently',
    });
    expect(asLogged(err).err).toEqual({
      name: 'AppError',
      message: 'Neo4j unavailable during schema',
      code: 'UNAVAILABLE',
      cause: 'Neo.TransientError.Schema.SchemaModifiedConcurrently',
    });
  });

  it("keep a driver error's code but none of its other fields", () => {
    const err = Object.assign(new Error('boom'), {
      code: 'Neo.ClientError.Statement.SyntaxError',
      parameters: { password: 'secret' },
    });
    expect(asLogged(err).err).toEqual({
      name: 'Error',
      message: 'boom',
      code: 'Neo.ClientError.Statement.SyntaxError',
    });
  });

  it('leave other values alone', () => {
    expect(JSON.parse(JSON.stringify({ a: 1, b: 'x' }, errorReplacer))).toEqual({ a: 1, b: 'x' });
  });
});
