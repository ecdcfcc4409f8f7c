/**
 * Every benchmark scenario `npm run bench` runs, in order. A scenario is a module (one file in
 * bench/) exporting `name`, `description`, `run()` and `format(result)`; add yours with one line.
 * `passed` says whether the result meets the scenario's goal (the run's exit code reports it).
 */
import * as capacity from './capacity.ts';
import * as clientCredentials from './client-credentials.ts';
import * as loginFlood from './login-flood.ts';
import * as loginThroughput from './login-throughput.ts';
import * as signInStorage from './sign-in-storage.ts';
import * as verifyThroughput from './verify-throughput.ts';
import * as workersThroughput from './workers-throughput.ts';

/** One line of the table `npm run bench` ends with. */
export interface Figure {
  id: string;
  what: string;
  value: string;
  goal?: string;
  ok?: boolean;
}

export interface Scenario<R = any> {
  name: string;
  description: string;
  run(): Promise<R>;
  format(result: R): string;
  passed?(result: R): boolean;
  /** Its figures for the summary table. */
  figures?(result: R): Figure[];
}

const ratio = (v: number) => v.toFixed(2);

export const scenarios: Scenario[] = [
  {
    ...verifyThroughput,
    run: () => verifyThroughput.run(),
    passed: (r: verifyThroughput.VerifyThroughputResult) => r.meetsGoal,
    figures: (r: verifyThroughput.VerifyThroughputResult) =>
      r.verify.map((v) => ({
        id: `${v.credential === 'api key' ? 'P2' : 'P1'}${v.store === 'redis' ? ' (Redis)' : ''}`,
        what: `verify ${v.credential === 'api key' ? 'secret API key' : 'JWT'} / bare Koa, ${v.store} (${v.requestsPerSecond} / ${r.bare.requestsPerSecond} req/s)`,
        value: ratio(v.ratio),
        ...(v.goal === null ? {} : { goal: `>= ${v.goal}`, ok: v.meetsGoal }),
      })),
  },
  {
    ...clientCredentials,
    run: () => clientCredentials.run(),
    passed: (r: clientCredentials.ClientCredentialsResult) => r.meetsGoal,
    figures: (r: clientCredentials.ClientCredentialsResult) =>
      r.portcullis.map((p) => ({
        id: p.store === 'memory' ? 'P3' : 'P3 (Redis)',
        what: `client_credentials tokens/s / bare oidc-provider, ${p.store} (${p.requestsPerSecond} / ${r.bare.requestsPerSecond})`,
        value: ratio(p.ratio),
        ...(p.store === 'memory' ? { goal: `>= ${clientCredentials.GOAL}`, ok: r.meetsGoal } : {}),
      })),
  },
  {
    ...workersThroughput,
    run: () => workersThroughput.run(),
    figures: (r: workersThroughput.WorkersThroughputResult) => [
      {
        id: 'W',
        what: `verify req/s, WORKERS=2 / WORKERS=1 (${r.runs.map((x) => x.requestsPerSecond).join(' / ')})`,
        value: ratio(r.ratio),
      },
    ],
  },
  {
    ...loginThroughput,
    run: () => loginThroughput.run(),
    passed: (r: loginThroughput.LoginThroughputResult) => r.meetsGoal,
    figures: (r: loginThroughput.LoginThroughputResult) => [
      {
        id: 'P5',
        what: `correct logins/s / raw argon2id/s on all cores (${r.loginsPerSecond} / ${r.rawPerSecond})`,
        value: ratio(r.ratio),
        goal: `>= ${loginThroughput.GOAL}`,
        ok: r.meetsGoal,
      },
    ],
  },
  {
    ...loginFlood,
    run: () => loginFlood.run(),
    passed: (r: loginFlood.LoginFloodResult) => r.withinBudget,
    figures: (r: loginFlood.LoginFloodResult) => [
      {
        id: 'P6',
        what: `verify p99 flood / idle (${r.verify.flood.p99} / ${r.verify.idle.p99} ms; client lag p99 ${r.verify.flood.clientLagP99} / ${r.verify.idle.clientLagP99} ms; ~${r.flood.perSecond} logins/s)`,
        value: ratio(r.ratioP99),
        goal: '<= 2',
        ok: r.withinBudget,
      },
    ],
  },
  {
    ...signInStorage,
    run: () => signInStorage.run(),
    passed: (r: signInStorage.SignInStorageResult) => r.meetsGoal,
    figures: (r: signInStorage.SignInStorageResult) => [
      {
        id: 'P7',
        what: `keys / bytes of a sign-in after logout (live: ${r.live.keys} / ${r.live.bytes}); back to baseline: ${r.backToBaseline ? 'yes' : 'no'}`,
        value: `${r.afterLogout.keys} / ${r.afterLogout.bytes}`,
        goal: 'only rev:{sid}',
        ok: r.meetsGoal,
      },
    ],
  },
  {
    ...capacity,
    run: () => capacity.run(),
    passed: (r: capacity.CapacityResult) => r.meetsGoal,
    figures: (r: capacity.CapacityResult) => [
      {
        id: 'C',
        what: `verify req/s with ${r.fill.signIns} more sign-ins / without (${r.fill.afterRps} / ${r.fill.beforeRps})`,
        value: ratio(r.fill.ratio),
        goal: `>= ${capacity.GOAL}`,
        ok: r.meetsGoal,
      },
      ...Object.entries(r.bytes).map(([k, v]) => ({ id: 'C', what: `Redis bytes per ${k}`, value: String(Math.round(v)) })),
    ],
  },
];
