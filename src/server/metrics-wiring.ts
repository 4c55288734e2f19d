import type { Context } from './context.js';

/** Feeds the metrics that are not counted where they happen: bundle lifecycle, certificate expiry, audit sinks. */
export function watchMetrics(ctx: Context): () => void {
  const { metrics, bundles, tls, audit } = ctx;
  const revisions = new Map<string, string>();
  bundles.on('activated', (s) => {
    const old = revisions.get(s.name);
    if (old !== undefined) metrics.bundleInfo.remove({ name: s.name, revision: old });
    if (s.revision !== undefined) {
      metrics.bundleInfo.set({ name: s.name, revision: s.revision }, 1);
      revisions.set(s.name, s.revision);
    }
    metrics.bundleLastSuccess.set({ name: s.name }, Date.now() / 1000);
  });
  bundles.on('failed', (s) => {
    metrics.bundleFailures.inc({ name: s.name });
    metrics.bundleLastFailure.set({ name: s.name }, Date.now() / 1000);
  });
  tls.on('change', (m) => metrics.certificateExpiry.set({ name: 'serving' }, m.notAfter.getTime() / 1000));
  audit.onEvent(() => metrics.auditEvents.inc());

  // Sink state is sampled every second, not per event, so an idle service still reports a growing backlog.
  const dropped = new Map<string, number>();
  const collect = () => {
    for (const h of audit.health()) {
      metrics.auditBuffered.set({ sink: h.name }, h.buffered);
      const before = dropped.get(h.name) ?? 0;
      if (h.dropped > before) metrics.auditDropped.inc({ sink: h.name }, h.dropped - before);
      dropped.set(h.name, h.dropped);
    }
  };
  const timer = setInterval(collect, 1000);
  timer.unref();
  return () => clearInterval(timer);
}
