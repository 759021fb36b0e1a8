import { SwitchyardError } from '../errors.js';
import { historyStream, type Address } from '../model/address.js';
import type { DeliverEnvelope } from '../model/envelope.js';
import { encodeHistoryRecord } from '../model/history-record.js';
import type { HistoryStore } from '../ports/history.js';
import type { EnvelopeCodec } from './envelope-codec.js';
import type { PublishOptions, PublishResult } from './types.js';

/** Set by tracing: the id the envelope gets, known to the publish span before the envelope is built. */
export const ENVELOPE_ID: unique symbol = Symbol('switchyard.envelope-id');

/** `PublishOptions` as a node hands them over (not part of the public options). */
export type DeliveryOptions = PublishOptions & { [ENVELOPE_ID]?: string };

export interface PreparedDelivery {
  envelope: DeliverEnvelope;
  result: PublishResult;
}

/**
 * The one way a `deliver` envelope is made, by a node or by a publish-only emitter: for a room
 * with history, append the data first (with `except` and headers, see `HistoryRecord`) and carry
 * its offset, epoch and, for stores whose offsets skip, the previous offset; then build the envelope.
 * Without history it answers synchronously, so local delivery needs no extra turn.
 */
export function prepareDelivery(
  codec: EnvelopeCodec,
  history: HistoryStore | undefined,
  address: Address,
  data: unknown,
  options: DeliveryOptions = {},
): PreparedDelivery | Promise<PreparedDelivery> {
  let prev: number | undefined;
  const build = (result: PublishResult): PreparedDelivery => ({
    result,
    envelope: codec.build<DeliverEnvelope>({
      type: 'deliver',
      ...(options[ENVELOPE_ID] !== undefined ? { id: options[ENVELOPE_ID] } : {}),
      to: address,
      data,
      ...(options.except?.length ? { except: options.except } : {}),
      ...(result.offset !== undefined ? { offset: result.offset, epoch: result.epoch } : {}),
      ...(prev !== undefined ? { prev } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  });
  if (!options.history || address.kind !== 'room') return build({});
  if (!history) return Promise.reject(new SwitchyardError('UNSUPPORTED', 'history was requested but no HistoryStore is configured'));
  const record = encodeHistoryRecord({ data, except: options.except, headers: options.headers });
  return history.append(historyStream(address.room), record).then((pos) => {
    // carried only where the store's offsets are not contiguous
    if (pos.prev !== undefined && pos.prev !== pos.offset - 1) prev = pos.prev;
    return build({ offset: pos.offset, epoch: pos.epoch });
  });
}
