// The benchmarks measure what ships: the service as tsc compiled it into dist/ (what `npm start` and the
// image run), not the TypeScript sources through tsx, whose keepNames helper renames every closure a hot
// path creates and costs a few percent. Types still come from the sources.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Config from '../src/server/config.js';
import type * as FrontDoors from '../src/server/front-doors.js';
import type * as Service from '../src/server/service.js';
import { ROOT } from '../test/helpers/paths.js';

const load = <T>(module: string) => import(pathToFileURL(join(ROOT, 'dist', module)).href) as Promise<T>;

export const { parseConfig } = await load<typeof Config>('server/config.js');
export const { frontDoors } = await load<typeof FrontDoors>('server/front-doors.js');
export const { startService } = await load<typeof Service>('server/service.js');
