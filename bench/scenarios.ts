/**
 * Every benchmark scenario `npm run bench` runs, in order. A scenario is a module (one file in
 * bench/) exporting `name`, `description`, `run()` and `format(result)`; add yours with one line.
 * `passed` says whether the result meets the scenario's goal (the run's exit code reports it).
 */
import * as loginFlood from './login-flood.ts';
import * as verifyThroughput from './verify-throughput.ts';

export interface Scenario<R = any> {
  name: string;
  description: string;
  run(): Promise<R>;
  format(result: R): string;
  passed?(result: R): boolean;
}

export const scenarios: Scenario[] = [
  { ...verifyThroughput, run: () => verifyThroughput.run(), passed: (r: verifyThroughput.VerifyThroughputResult) => r.meetsGoal },
  { ...loginFlood, run: () => loginFlood.run(), passed: (r: loginFlood.LoginFloodResult) => r.withinBudget },
];
