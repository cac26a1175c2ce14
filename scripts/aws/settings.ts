/**
 * The SDK settings every client reads from the environment and the shared config files, read once for all the clients
 * of one factory (clients.ts) with the SDK's own loaders and option objects, so each setting means exactly what it
 * means to a client that reads it itself.
 *
 * Why: left to each client, every one walks the environment and both shared config files for each setting, and every
 * source that lacks it costs two error objects and the config files' paths worked out again. `flz assess` builds
 * about 170 clients for 20 accounts; counted in one such run, the four settings below cost 680 of those misses (one
 * per client and setting: the environment was read 664 times for the config files' paths). Building 280 clients and
 * reading the FIPS and dual-stack pair took 143 ms of CPU, 82 ms with the pair read once (bench/assess).
 *
 * Left to each client: the region and the retry settings (the factory passes them), and the endpoint URL configured for
 * its service (`AWS_ENDPOINT_URL_<SERVICE>`), which only the SDK's endpoint middleware resolves.
 */
import { NODE_APP_ID_CONFIG_OPTIONS } from "@aws-sdk/core/client";
import { NODE_AUTH_SCHEME_PREFERENCE_OPTIONS } from "@aws-sdk/core/httpAuthSchemes";
import {
  loadConfig,
  NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS,
  NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS,
} from "@smithy/core/config";
import type { Provider } from "@smithy/types";

/** Client configuration fields, each a provider that reads its setting once and keeps the answer. */
export interface SharedClientSettings {
  /** `AWS_USE_FIPS_ENDPOINT` / `use_fips_endpoint`. */
  readonly useFipsEndpoint: Provider<boolean>;
  /** `AWS_USE_DUALSTACK_ENDPOINT` / `use_dualstack_endpoint`. */
  readonly useDualstackEndpoint: Provider<boolean>;
  /** `AWS_SDK_UA_APP_ID` / `sdk_ua_app_id`: the application ID the user agent carries. */
  readonly userAgentAppId: Provider<string | undefined>;
  /** `AWS_AUTH_SCHEME_PREFERENCE` / `auth_scheme_preference`. */
  readonly authSchemePreference: Provider<string[]>;
}

/**
 * Loads each setting at most once, when a client first asks for it (the SDK's `loadConfig` memoizes its answer), for
 * the default profile as the clients would (the factory never passes a profile). Read for the signing name of no
 * service, as each client's runtime configuration reads the auth scheme preference.
 */
export function sharedClientSettings(): SharedClientSettings {
  return {
    useFipsEndpoint: loadConfig(NODE_USE_FIPS_ENDPOINT_CONFIG_OPTIONS),
    useDualstackEndpoint: loadConfig(NODE_USE_DUALSTACK_ENDPOINT_CONFIG_OPTIONS),
    userAgentAppId: loadConfig(NODE_APP_ID_CONFIG_OPTIONS),
    authSchemePreference: loadConfig(NODE_AUTH_SCHEME_PREFERENCE_OPTIONS),
  };
}
