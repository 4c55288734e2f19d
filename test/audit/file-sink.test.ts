import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FileSink } from '../../src/audit/sinks/file.js';

t.test('a batch lands byte for byte, multi-byte characters included, split where the file rotates', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-file-sink-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'audit.log');
  const sink = new FileSink({ path, maxBytes: 40, maxFiles: 3 });
  // Lines of 17, 27 (é and ü take 2 bytes, 日 and 本 3) and 7 bytes, each with its newline: the second would
  // take the first file over 40 bytes, so it starts the next one, and the third fits after it.
  const batch = ['{"n":1,"a":"abc"}', '{"n":2,"b":"éü日本 ok"}', '{"n":3}'];
  t.same(batch.map((l) => Buffer.byteLength(l)), [17, 27, 7]);
  sink.write(batch);
  await sink.close();
  t.equal(await readFile(`${path}.1`, 'utf8'), `${batch[0]}\n`, 'the first line stayed in the file it was written to');
  t.equal(await readFile(path, 'utf8'), `${batch[1]}\n${batch[2]}\n`, 'the rest, multi-byte characters intact, in the new file');
  t.equal(sink.health().dropped, 0);
});
