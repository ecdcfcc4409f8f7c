/**
 * Readiness as a cheap, bounded question: one check at a time, whatever the number of probes
 * (callers meanwhile share it), its answer reused for `reuseMs`, and a check that does not finish
 * within `timeoutMs` counts as not ready. A storm of /ready probes thus costs the store at most one
 * check per `reuseMs`, and a hung store cannot hang a probe.
 */
export function sharedReadiness(check: () => Promise<boolean>, opts: { reuseMs: number; timeoutMs: number }): () => Promise<boolean> {
  const now = () => performance.now();
  let last: { ready: boolean; at: number } | undefined;
  let running: Promise<boolean> | undefined;
  const bounded = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), opts.timeoutMs)));
    try {
      return await Promise.race([check().catch(() => false), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  return () => {
    if (last && now() - last.at < opts.reuseMs) return Promise.resolve(last.ready);
    running ??= bounded().then((ready) => {
      last = { ready, at: now() };
      running = undefined;
      return ready;
    });
    return running;
  };
}
