/**
 * Typed access to {@link ClientFactory} for the custody and hashing code. The factory's `ClientClass` constraint
 * describes the middleware stack more narrowly than the SDK's own overloaded signature, so an SDK client class does
 * not satisfy it in strict mode; this adapter keeps the factory's behaviour (credentials, retries, injected latency)
 * and gives callers the real client type.
 */
import type { ClientClass, ClientFactory, ConfigurableClient, Placement } from "../aws/clients";

/** A client of the given SDK class acting where `placement` says, from the factory's cache. */
export function sdkClient<C>(factory: ClientFactory, Client: new (config: never) => C, placement: Placement): C {
  return factory.client(Client as unknown as ClientClass<ConfigurableClient>, placement) as unknown as C;
}
