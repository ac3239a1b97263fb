import { describe, expect, it } from 'vitest';
import { waitForQuiet } from '../../bench/quiet';

describe('bench: waiting for a quiet machine', () => {
  it('returns after one window when any load counts as quiet', async () => {
    const q = await waitForQuiet({ busyBelow: 1.01, windowMs: 100, maxMs: 5_000 });
    expect(q.quiet).toBe(true);
    expect(q.busy).toBeGreaterThanOrEqual(0);
    expect(q.busy).toBeLessThanOrEqual(1);
  });

  it('gives up at its limit and says the machine was still busy', async () => {
    const q = await waitForQuiet({ busyBelow: 0, windowMs: 100, maxMs: 350 });
    expect(q.quiet).toBe(false);
    // It gives up only once its limit has passed (how much later depends on the machine).
    expect(q.waitedMs).toBeGreaterThanOrEqual(350);
  });
});
