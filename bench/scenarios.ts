/**
 * Every benchmark scenario `npm run bench` runs, in order. A scenario is a module (one file in
 * bench/) exporting `name`, `description`, `run()` and `format(result)`; add yours with one line.
 * `passed` says whether the result meets the scenario's goal (the run's exit code reports it).
 */
import * as capacity from './capacity.ts';
import * as loginFlood from './login-flood.ts';
import * as loginThroughput from './login-throughput.ts';
import * as signInStorage from './sign-in-storage.ts';
import * as verifyThroughput from './verify-throughput.ts';
import * as workersThroughput from './workers-throughput.ts';

export interface Scenario<R = any> {
  name: string;
  description: string;
  run(): Promise<R>;
  format(result: R): string;
  passed?(result: R): boolean;
}

export const scenarios: Scenario[] = [
  { ...verifyThroughput, run: () => verifyThroughput.run(), passed: (r: verifyThroughput.VerifyThroughputResult) => r.meetsGoal },
  { ...workersThroughput, run: () => workersThroughput.run() },
  { ...loginThroughput, run: () => loginThroughput.run(), passed: (r: loginThroughput.LoginThroughputResult) => r.meetsGoal },
  { ...loginFlood, run: () => loginFlood.run(), passed: (r: loginFlood.LoginFloodResult) => r.withinBudget },
  { ...signInStorage, run: () => signInStorage.run(), passed: (r: signInStorage.SignInStorageResult) => r.meetsGoal },
  { ...capacity, run: () => capacity.run(), passed: (r: capacity.CapacityResult) => r.meetsGoal },
];
