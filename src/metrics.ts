import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

/** Which part of the API a path belongs to: a bounded label (paths themselves would not be). */
export function surfaceOf(path: string): string {
  const end = path.indexOf('/', 1);
  const first = path.slice(1, end < 0 ? undefined : end);
  switch (first) {
    case 'v1':
    case 'admin':
    case 'store':
    case 'auth':
    case 'oauth':
      return first;
    case '.well-known':
      return 'well-known';
    case 'health':
    case 'ready':
    case 'metrics':
    case 'openapi.json':
      return 'operations';
    default:
      return 'other';
  }
}

export type LoginOutcome = 'success' | 'failure' | 'throttled';

/**
 * Prometheus metrics, on a registry of their own (each app built in a test has its own).
 * Labels are bounded: surface, method, status code, outcome; never a path, an id or an email.
 */
export function createMetrics(opts: { passwordHasherStats?: () => { active: number; queued: number; maxConcurrent: number } } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });

  const http = createRequestMetrics();
  registry.registerMetric(http.requestsMetric as unknown as Metric);
  registry.registerMetric(http.durationMetric as unknown as Metric);
  const logins = new Counter({
    name: 'portcullis_password_logins_total',
    help: 'Password login attempts on every surface, by outcome (throttled: refused by the failed-login back-off)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const fastLane = createFastLaneMetric();
  registry.registerMetric(fastLane.metric as unknown as Metric);
  const quotaRefusals = new Counter({
    name: 'portcullis_rate_limited_total',
    help: 'Requests refused because their quota was spent (429), by credential method',
    labelNames: ['method'] as const,
    registers: [registry],
  });
  if (opts.passwordHasherStats) {
    const stats = opts.passwordHasherStats;
    new Gauge({
      name: 'portcullis_password_hashes_active',
      help: 'Password hashes being computed',
      registers: [registry],
      collect() {
        this.set(stats().active);
      },
    });
    new Gauge({
      name: 'portcullis_password_hashes_queued',
      help: 'Password hashes waiting for a hashing slot',
      registers: [registry],
      collect() {
        this.set(stats().queued);
      },
    });
  }

  return {
    registry,
    request: http.record,
    login(outcome: LoginOutcome): void {
      logins.labels(outcome).inc();
    },
    rateLimited(method: string): void {
      quotaRefusals.labels(method).inc();
    },
    fastLaneAnswers: fastLane.counter,
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Repeat verifications the verify fast lane answered, by the resolver that knew the credential:
 * shows that each kind of credential still takes it (a kind that stopped would only show as lost
 * throughput). Each resolver gets its own counter up front (0 until used), incremented with no lookup.
 */
function createFastLaneMetric() {
  const counts = new Map<string, { value: number }>();
  return {
    counter(credential: string): () => void {
      let count = counts.get(credential);
      if (!count) counts.set(credential, (count = { value: 0 }));
      const cell = count;
      return () => void cell.value++;
    },
    metric: {
      name: 'portcullis_verify_fast_lane_total',
      get: async () => ({
        name: 'portcullis_verify_fast_lane_total',
        help: 'Repeat GET /v1/auth/verify answered by the fast lane (one store round trip), by credential resolver',
        type: 'counter',
        aggregator: 'sum',
        values: [...counts].map(([credential, { value }]) => ({ labels: { credential }, value })),
      }),
      reset: () => counts.forEach((count) => (count.value = 0)),
    },
  };
}

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Requests by surface, method and status, and their durations by surface. Every request (the
 * verify fast lane too) records here, so recording is plain arithmetic on objects found by one
 * Map lookup; prom-client only sees the totals when /metrics is scraped.
 */
function createRequestMetrics() {
  const counts = new Map<string, { labels: Record<string, string>; value: number }>();
  const timings = new Map<string, { surface: string; buckets: number[]; sum: number; count: number }>();

  return {
    record(path: string, method: string, status: number, seconds: number): void {
      const surface = surfaceOf(path);
      const key = `${surface} ${method} ${status}`;
      let count = counts.get(key);
      if (!count) counts.set(key, (count = { labels: { surface, method, status: String(status) }, value: 0 }));
      count.value++;
      let timing = timings.get(surface);
      if (!timing)
        timings.set(surface, (timing = { surface, buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
      let i = 0;
      while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
      timing.buckets[i]!++;
      timing.sum += seconds;
      timing.count++;
    },
    requestsMetric: {
      name: 'portcullis_http_requests_total',
      get: async () => ({
        name: 'portcullis_http_requests_total',
        help: 'HTTP requests answered, by surface, method and status code',
        type: 'counter',
        aggregator: 'sum',
        values: [...counts.values()].map(({ labels, value }) => ({ labels, value })),
      }),
      reset: () => counts.clear(),
    },
    durationMetric: {
      name: 'portcullis_http_request_duration_seconds',
      get: async () => ({
        name: 'portcullis_http_request_duration_seconds',
        help: 'Time to answer an HTTP request, by surface',
        type: 'histogram',
        aggregator: 'sum',
        values: [...timings.values()].flatMap(({ surface, buckets, sum, count }) => {
          let cumulative = 0;
          const values = buckets.map((n, i) => {
            cumulative += n;
            return {
              labels: { surface, le: i < DURATION_BUCKETS.length ? String(DURATION_BUCKETS[i]) : '+Inf' },
              value: cumulative,
              metricName: 'portcullis_http_request_duration_seconds_bucket',
            };
          });
          return [
            ...values,
            { labels: { surface }, value: sum, metricName: 'portcullis_http_request_duration_seconds_sum' },
            { labels: { surface }, value: count, metricName: 'portcullis_http_request_duration_seconds_count' },
          ];
        }),
      }),
      reset: () => timings.clear(),
    },
  };
}
