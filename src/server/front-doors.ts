import { startAdmission } from '../admission/server.js';
import { startGrpcDoor } from '../authz/grpc/server.js';
import { startHttpDoor } from '../authz/http/server.js';
import { startSdsDoor } from '../sds/server.js';
import type { Config } from './config.js';
import type { FrontDoor } from './service.js';

/** The front doors the configuration enables. Each lives in its own folder and only receives the shared context. */
export function frontDoors(config: Config): FrontDoor[] {
  const doors: FrontDoor[] = [];
  if (config.admission.enabled) doors.push(startAdmission);
  if (config.authz.enabled && config.authz.grpc.enabled) doors.push(startGrpcDoor);
  if (config.authz.enabled && config.authz.http.enabled) doors.push(startHttpDoor);
  if (config.sds.enabled) doors.push(startSdsDoor);
  return doors;
}
