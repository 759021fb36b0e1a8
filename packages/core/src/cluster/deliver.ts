import { SwitchyardError } from '../errors.js';
import { historyStream, type Address } from '../model/address.js';
import type { DeliverEnvelope } from '../model/envelope.js';
import type { HistoryStore } from '../ports/history.js';
import type { EnvelopeCodec } from './envelope-codec.js';
import type { PublishOptions, PublishResult } from './types.js';

const encoder = new TextEncoder();

export interface PreparedDelivery {
  envelope: DeliverEnvelope;
  result: PublishResult;
}

/**
 * The one way a `deliver` envelope is made, by a node or by a publish-only emitter: for a room
 * with history, append the data first and carry its offset and epoch; then build the envelope.
 * Without history it answers synchronously, so local delivery needs no extra turn.
 */
export function prepareDelivery(
  codec: EnvelopeCodec,
  history: HistoryStore | undefined,
  address: Address,
  data: unknown,
  options: PublishOptions = {},
): PreparedDelivery | Promise<PreparedDelivery> {
  const build = (result: PublishResult): PreparedDelivery => ({
    result,
    envelope: codec.build<DeliverEnvelope>({
      type: 'deliver',
      to: address,
      data,
      ...(options.except?.length ? { except: options.except } : {}),
      ...(result.offset !== undefined ? { offset: result.offset, epoch: result.epoch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  });
  if (!options.history || address.kind !== 'room') return build({});
  if (!history) return Promise.reject(new SwitchyardError('UNSUPPORTED', 'history was requested but no HistoryStore is configured'));
  return history.append(historyStream(address.room), encoder.encode(JSON.stringify(data))).then((pos) => build({ offset: pos.offset, epoch: pos.epoch }));
}
