import { describe, expect, it } from 'vitest';
import { VmCallError, toVmError } from './vm-error.ts';

describe('toVmError', () => {
  it('keeps code and detail that crossed comlink as fields of an Error', () => {
    const crossed = Object.assign(new Error('The VM image is not built.'), { code: 'asset-missing', detail: 'HTTP 404' });
    expect(toVmError(crossed)).toEqual({ code: 'asset-missing', message: 'The VM image is not built.', detail: 'HTTP 404' });
  });

  it('turns anything else into an internal error that keeps the raw text', () => {
    const error = toVmError(new TypeError('Failed to fetch'));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('Failed to fetch');
    expect(error.detail).toContain('TypeError');
    expect(toVmError('boom')).toMatchObject({ code: 'internal', detail: 'boom' });
    expect(toVmError({ code: 'not-a-code', message: 'x' }).code).toBe('internal');
  });

  it('VmCallError exposes the VmError both whole and as fields', () => {
    const error = new VmCallError({ code: 'exec-timeout', message: 'Timed out.', detail: 'sleep 999' });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('exec-timeout');
    expect(error.detail).toBe('sleep 999');
    expect(toVmError(error)).toEqual(error.vmError);
  });
});
