// The relay's settings from the environment, shared by the Vite mount and `npm run proxy`:
// TABDOCK_RELAY_PORTS (default 80,443), TABDOCK_ALLOW_HOST_PORTS (host.tabdock.internal:PORT -> 127.0.0.1:PORT),
// TABDOCK_RELAY_TOKEN (clients then use /wisp/<token>/), TABDOCK_TRUSTED_PROXY (reverse proxies in front of it).
import { parseTrustedProxies, type TrustedProxy } from '../client-key.ts';
import { parsePortList, type RelayPolicyConfig } from '../relay-policy.ts';

export interface RelayEnvSettings {
  policy: Partial<RelayPolicyConfig>;
  token?: string;
  trustedProxies?: TrustedProxy[];
}

export function relaySettingsFromEnv(env: Record<string, string | undefined>): RelayEnvSettings {
  const policy: Partial<RelayPolicyConfig> = {};
  const ports = parsePortList(env['TABDOCK_RELAY_PORTS'], 'TABDOCK_RELAY_PORTS');
  if (ports.length > 0) policy.allowedPorts = ports;
  const hostPorts = parsePortList(env['TABDOCK_ALLOW_HOST_PORTS'], 'TABDOCK_ALLOW_HOST_PORTS');
  if (hostPorts.length > 0) policy.hostPorts = hostPorts;
  const token = env['TABDOCK_RELAY_TOKEN']?.trim();
  if (token !== undefined && token !== '' && !/^[A-Za-z0-9._~-]{8,}$/.test(token)) {
    throw new RangeError('TABDOCK_RELAY_TOKEN must be at least 8 characters of A-Z a-z 0-9 . _ ~ - (it becomes part of the URL path)');
  }
  const trustedProxies = parseTrustedProxies(env['TABDOCK_TRUSTED_PROXY'], 'TABDOCK_TRUSTED_PROXY');
  return { policy, ...(token ? { token } : {}), ...(trustedProxies.length > 0 ? { trustedProxies } : {}) };
}
