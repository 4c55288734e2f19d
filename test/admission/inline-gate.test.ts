import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { InlineGate } from '../../src/admission/inline-gate.js';

/** Keeps the event loop busy, as a main thread at saturation is. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

t.test('decisions move to the workers while the main thread is busy and come back once it is idle', async (t) => {
  const gate = new InlineGate();
  t.teardown(() => gate.close());
  t.equal(gate.inline, true, 'an idle main thread decides itself');

  // Busy for a few whole measurement windows (100 ms): each window it measures is ~100% utilized.
  for (let i = 0; i < 4; i++) {
    spin(150);
    await sleep(1);
  }
  t.equal(gate.inline, false, 'a saturated main thread hands decisions over');

  await sleep(350);
  t.equal(gate.inline, true, 'idle again, it decides itself');
});
