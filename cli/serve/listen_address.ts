/**
 * Where the credential server listens, and whether that is safe. SDKs send the container
 * endpoint's token over plain HTTP only to loopback and the ECS/EKS link-local hosts (botocore,
 * the AWS SDK for JavaScript v3), and accept any host over HTTPS; so a listener that other
 * machines can reach needs both TLS and a token. Pure.
 *
 * @example
 * ```ts
 * parseListen("127.0.0.1:9911", "--listen"); // { hostname: "127.0.0.1", port: 9911, loopback: true }
 * ```
 */
import { fail } from "../errors.ts";

export const DEFAULT_PORT = 9911;
export const DEFAULT_LISTEN = `127.0.0.1:${DEFAULT_PORT}`;

export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
  readonly loopback: boolean;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host === "::1") return true;
  const octets = host.split(".");
  return octets.length === 4 && octets[0] === "127" && octets.every((octet) => /^\d{1,3}$/.test(octet) && +octet < 256);
}

export function parsePort(text: string, setting: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text.trim()) || port > 65535) {
    fail("InvalidSetting", `${setting} must be a port from 0 to 65535 (0 picks a free one), not "${text}"`);
  }
  return port;
}

/** `HOST:PORT` or `[IPv6]:PORT`. */
export function parseListen(text: string, setting: string): ListenAddress {
  const match = text.trim().match(/^(\[[0-9A-Fa-f:.]+\]|[^:\[\]\s]+):(\d+)$/);
  if (!match) {
    fail("InvalidSetting", `${setting} must be HOST:PORT (e.g. 127.0.0.1:9911 or [::1]:9911), not "${text}"`);
  }
  const hostname = match[1].replace(/^\[(.*)\]$/, "$1");
  return { hostname, port: parsePort(match[2], setting), loopback: isLoopbackHost(hostname) };
}

/** The host clients put in their URLs: the listen address, or localhost for a wildcard one. */
export function clientHost(address: ListenAddress): string {
  const host = ["0.0.0.0", "::"].includes(address.hostname) ? "localhost" : address.hostname;
  return host.includes(":") ? `[${host}]` : host;
}
