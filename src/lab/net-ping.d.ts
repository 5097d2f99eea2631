// Types for the parts of net-ping (npm, CommonJS, no bundled types) the lab's ping worker uses:
// ICMP echo over a raw socket (raw-socket native addon), one session pinging many hosts.
declare module 'net-ping' {
  export interface SessionOptions {
    retries?: number;
    timeout?: number;
    packetSize?: number;
    sessionId?: number;
    ttl?: number;
    /** NetworkProtocol.IPv4 (default) or IPv6: ICMP or ICMPv6. */
    networkProtocol?: number;
  }
  export interface Session {
    pingHost(target: string, callback: (error: Error | null, target: string, sent?: Date, rcvd?: Date) => void): void;
    close(): void;
    on(event: 'error', listener: (error: Error) => void): void;
  }
  export function createSession(options?: SessionOptions): Session;
  export const NetworkProtocol: { IPv4: number; IPv6: number };
  const netPing: { createSession: typeof createSession; NetworkProtocol: typeof NetworkProtocol };
  export default netPing;
}
