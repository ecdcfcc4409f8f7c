import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gcra } from '../../src/store/gcra.ts';

/** The rate algorithm both stores run, on an explicit clock. */
describe('GCRA', () => {
  const limit = 4;
  const periodMs = 4000;

  /** Spend `n` requests at time `now` starting from `tat`; the answers and the TAT left behind. */
  function spend(n: number, now: number, tat: number | null = null) {
    const answers = [];
    for (let i = 0; i < n; i++) {
      const { result, newTat } = gcra(tat, now, limit, periodMs, 1);
      answers.push(result);
      if (newTat !== null) tat = newTat;
    }
    return { answers, tat };
  }

  it('allows a burst of the limit, counting down what remains, then refuses with when to retry', () => {
    const { answers } = spend(5, 0);
    assert.deepEqual(
      answers.map((a) => a.allowed),
      [true, true, true, true, false],
    );
    assert.deepEqual(
      answers.slice(0, 4).map((a) => a.remaining),
      [3, 2, 1, 0],
    );
    assert.equal(answers[4]!.retryAfterMs, 1000, 'one interval (period / limit)');
    assert.equal(answers[4]!.resetMs, 4000);
  });

  it('a refusal writes nothing, so refused requests do not push the next allowance out', () => {
    const { tat } = spend(4, 0);
    const refused = gcra(tat, 500, limit, periodMs, 1);
    assert.equal(refused.newTat, null);
    assert.equal(gcra(tat, 1000, limit, periodMs, 1).result.allowed, true);
  });

  it('refills one request per interval, not a whole window at once', () => {
    const { tat } = spend(4, 0);
    const after = spend(2, 1000, tat);
    assert.deepEqual(
      after.answers.map((a) => a.allowed),
      [true, false],
    );
  });

  it('a cost of 0 peeks without spending', () => {
    const peek = gcra(null, 0, limit, periodMs, 0);
    assert.equal(peek.result.allowed, true);
    assert.equal(peek.result.remaining, 4);
    assert.equal(peek.newTat, null);
  });
});
