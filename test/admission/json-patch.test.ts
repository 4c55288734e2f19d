import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { applyPatch, asPatch, PatchError, type PatchOp } from '../../src/admission/json-patch.js';
import { pointerSegment } from '../../src/policy/json-pointer.js';

const doc = () => ({ metadata: { annotations: { a: '1' } }, spec: { containers: [{ name: 'app' }], tags: ['x'] } });

const cases: Array<[string, PatchOp[]]> = [
  ['add member', [{ op: 'add', path: '/metadata/labels', value: { app: 'x' } }]],
  ['add escaped member', [{ op: 'add', path: `/metadata/annotations/${pointerSegment('sidecar.portcullis.io/status')}`, value: '{}' }]],
  ['insert at index', [{ op: 'add', path: '/spec/containers/0', value: { name: 'first' } }]],
  ['append', [{ op: 'add', path: '/spec/containers/-', value: { name: 'last' } }]],
  ['remove', [{ op: 'remove', path: '/spec/tags/0' }]],
  ['replace', [{ op: 'replace', path: '/metadata/annotations/a', value: '2' }]],
  ['move', [{ op: 'move', from: '/spec/tags', path: '/metadata/tags' }]],
  ['copy', [{ op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' }]],
  ['test then add', [{ op: 'test', path: '/metadata/annotations/a', value: '1' }, { op: 'add', path: '/x', value: 1 }]],
];

for (const [name, ops] of cases) {
  t.test(`${name}: same result as fast-json-patch, original untouched`, async (t) => {
    const original = doc();
    const snapshot = structuredClone(original);
    const ours = applyPatch(original, ops);
    const reference = fastJsonPatch.applyPatch(structuredClone(original), structuredClone(ops) as fastJsonPatch.Operation[], true, false).newDocument;
    t.same(ours, reference);
    t.same(original, snapshot, 'the input is not modified');
  });
}

t.test('operations that do not apply are refused, as the API server would', async (t) => {
  t.throws(() => applyPatch(doc(), [{ op: 'add', path: '/missing/x', value: 1 }]), PatchError);
  t.throws(() => applyPatch(doc(), [{ op: 'add', path: '/spec/containers/5', value: 1 }]), /out of bounds/);
  t.throws(() => applyPatch(doc(), [{ op: 'remove', path: '/metadata/nope' }]), /does not exist/);
  t.throws(() => applyPatch(doc(), [{ op: 'test', path: '/metadata/annotations/a', value: '9' }]), /test failed/);
  t.throws(() => applyPatch(doc(), [{ op: 'add', path: '/spec/containers/01', value: 1 }]), /not an array index/);
  t.throws(() => applyPatch(doc(), [{ op: 'replace', path: '', value: {} }]), /whole document/);
});

t.test('"__proto__" stays an ordinary key', async (t) => {
  const out = applyPatch({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(out), Object.prototype);
  t.same(Object.keys(out), ['__proto__']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
});

t.test('asPatch checks the shape of policy output', async (t) => {
  t.same(asPatch([{ op: 'remove', path: '/a' }]), [{ op: 'remove', path: '/a' }]);
  t.throws(() => asPatch({ op: 'add' }), /not a JSON Patch/);
  t.throws(() => asPatch([{ op: 'add', path: '/a' }]), /value/);
  t.throws(() => asPatch([{ op: 'move', path: '/a' }]), /from/);
  t.throws(() => asPatch([{ op: 'merge', path: '/a', value: 1 }]), /not a JSON Patch/);
  t.throws(() => asPatch([{ op: 'add', path: 'a', value: 1 }]), /pattern/);
});
