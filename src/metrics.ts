import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics of one process (SPEC §7), in a registry of its own so tests can run several. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'tessera_http_requests_total', help: 'HTTP requests by route template and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request durations by route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    tokensIssued: new Counter({ name: 'tessera_tokens_issued_total', help: 'Access tokens issued, by grant', labelNames: ['grant'], registers }),
    refreshReuse: new Counter({ name: 'tessera_refresh_reuse_detected_total', help: 'Refresh tokens presented again after rotation (sessions revoked)', registers }),
    failedLogins: new Counter({ name: 'tessera_failed_logins_total', help: 'Password grants refused for a wrong username or password', registers }),
    rateLimited: new Counter({ name: 'tessera_rate_limited_total', help: 'Requests refused by a rate limit', labelNames: ['limit'], registers }),
    openSockets: new Gauge({ name: 'tessera_open_sockets', help: 'Open WebSocket connections on this process', registers }),
    socketMessages: new Counter({ name: 'tessera_socket_messages_total', help: 'Message frames received from and delivered to sockets', labelNames: ['direction'], registers }),
    messagesStored: new Counter({ name: 'tessera_messages_stored_total', help: 'Messages stored, by role', labelNames: ['role'], registers }),
    fanoutLatency: new Histogram({
      name: 'tessera_fanout_latency_seconds',
      help: 'From a message being stored to its frame being handed to the local sockets',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
