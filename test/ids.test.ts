import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTime } from 'ulid';
import { newId } from '../src/ids.ts';

describe('record ids', () => {
  it('are ULIDs of now, all distinct, their random characters uniform over the 32 of the alphabet', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    const after = Date.now();
    assert.equal(new Set(ids).size, ids.length);
    const counts = new Map<string, number>();
    for (const id of ids) {
      assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
      const t = decodeTime(id);
      assert.ok(t >= before && t <= after, `${id} carries its creation time`);
      for (const c of id.slice(10)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // 320 000 random characters: each of the 32 expected 10 000 times; a biased source strays far further.
    assert.equal(counts.size, 32);
    for (const [c, n] of counts) assert.ok(Math.abs(n - 10_000) < 600, `${c} drawn ${n} times`);
  });
});
