/** What a node says about a bad field: the field's path once, then plain words. No services. */
import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '../src/protocol/client-frames.js';

describe('bad_frame messages name the field once', () => {
  it('a bad or reserved room name', () => {
    expect(parseClientFrame('{"t":"join","id":7,"room":"has space"}')).toEqual({ ok: false, code: 'bad_frame', reason: 'bad_fields', message: 'room: 1 to 128 characters from A-Z a-z 0-9 _ - . : @ /', id: 7 });
    expect(parseClientFrame('{"t":"pub","room":"constructor","data":1}')).toMatchObject({ ok: false, message: 'room: __proto__, constructor and prototype are reserved' });
    expect(parseClientFrame(`{"t":"leave","room":"${'r'.repeat(129)}"}`)).toMatchObject({ ok: false, message: 'room: 1 to 128 characters from A-Z a-z 0-9 _ - . : @ /' });
  });
});
