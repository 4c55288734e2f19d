#!/usr/bin/env node
// Writes policies/portcullis/istio/data.json: the schemas of the Istio kinds Portcullis judges, flattened for
// Rego (which cannot recurse), from the istio.io/api release pinned in tools/istio-api/go.mod.
//   node scripts/istio-schema.mjs           write the file
//   node scripts/istio-schema.mjs --check   exit 1 when the committed file differs from what the pin gives
//
// Field names, JSON types, enum values and required fields come from Istio's CRDs
// (kubernetes/customresourcedefinitions.gen.yaml). Istio decodes a spec with the legacy protobuf JSON
// decoder (github.com/golang/protobuf/jsonpb), which also takes each field under its proto name
// (port_level_mtls) and each enum as its number (3 for STRICT): both come from the protos, so the policy can
// read those spellings as Istio does.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { parseAllDocuments } from 'yaml';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const out = join(root, 'policies', 'portcullis', 'istio', 'data.json');
const pin = join(root, 'tools', 'istio-api');

// Every Istio kind a rule judges, with the proto message of its spec.
const KINDS = {
  'security.istio.io/AuthorizationPolicy': ['security/v1beta1/authorization_policy.proto', 'istio.security.v1beta1.AuthorizationPolicy'],
  'security.istio.io/PeerAuthentication': ['security/v1beta1/peer_authentication.proto', 'istio.security.v1beta1.PeerAuthentication'],
  'security.istio.io/RequestAuthentication': ['security/v1beta1/request_authentication.proto', 'istio.security.v1beta1.RequestAuthentication'],
  'networking.istio.io/DestinationRule': ['networking/v1alpha3/destination_rule.proto', 'istio.networking.v1alpha3.DestinationRule'],
  'networking.istio.io/EnvoyFilter': ['networking/v1alpha3/envoy_filter.proto', 'istio.networking.v1alpha3.EnvoyFilter'],
  'networking.istio.io/ProxyConfig': ['networking/v1beta1/proxy_config.proto', 'istio.networking.v1beta1.ProxyConfig'],
  'extensions.istio.io/WasmPlugin': ['extensions/v1alpha1/wasm.proto', 'istio.extensions.v1alpha1.WasmPlugin'],
  'extensions.istio.io/TrafficExtension': ['extensions/v1alpha1/traffic_extension.proto', 'istio.extensions.v1alpha1.TrafficExtension'],
};

/** protoc's default json_name: underscores dropped, the letter after each one upper-cased. */
function jsonName(protoName) {
  let name = '';
  let upper = false;
  for (const c of protoName) {
    if (c === '_') upper = true;
    else {
      name += upper ? c.toUpperCase() : c;
      upper = false;
    }
  }
  return name;
}

function moduleDir() {
  const version = /^require istio\.io\/api (\S+)$/m.exec(readFileSync(join(pin, 'go.mod'), 'utf8'))?.[1];
  if (!version) throw new Error('tools/istio-api/go.mod does not require istio.io/api');
  const info = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `istio.io/api@${version}`], { cwd: pin, encoding: 'utf8' }));
  if (info.Error) throw new Error(info.Error);
  return { dir: info.Dir, version };
}

function loadProtos(dir) {
  const protos = new protobuf.Root();
  const includes = [dir, join(dir, 'common-protos')];
  protos.resolvePath = (origin, target) => {
    for (const base of includes) if (existsSync(join(base, target))) return join(base, target);
    return protobuf.util.path.resolve(origin, target);
  };
  protos.loadSync(Object.values(KINDS).map(([file]) => file), { keepCase: true });
  protos.resolveAll();
  return protos;
}

const WELL_KNOWN_LEAVES = new Set([
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.FloatValue',
  'google.protobuf.DoubleValue',
]);

/**
 * Flattens one CRD schema node (and the proto type it decodes into) under `pattern`: objects list every
 * spelling of their fields, lists add `<pattern>.[]`, maps `<pattern>.{}`.
 */
function flatten(nodes, names, kind, pattern, schema, type) {
  const where = `${kind} ${pattern}`;
  if (schema['x-kubernetes-preserve-unknown-fields']) {
    nodes[pattern] = { t: 'object', open: true };
    return;
  }
  switch (schema.type) {
    case 'object': {
      if (schema.additionalProperties) {
        if (!(type instanceof protobuf.Field && type.map)) throw new Error(`${where}: a CRD map that is no proto map`);
        const keys = type.keyType === 'string' ? 'string' : /^u?int(32|64)$|^fixed|^sfixed|^sint/.test(type.keyType) ? type.keyType : null;
        if (!keys) throw new Error(`${where}: map key type ${type.keyType}`);
        nodes[pattern] = { t: 'map', k: keys };
        const values = type.resolvedType ?? { scalar: type.type };
        flatten(nodes, names, kind, `${pattern}.{}`, schema.additionalProperties, values);
        return;
      }
      const message = type instanceof protobuf.Field ? type.resolvedType : type;
      if (!(message instanceof protobuf.Type)) throw new Error(`${where}: a CRD object that is no proto message`);
      const fields = {};
      for (const [name, sub] of Object.entries(schema.properties ?? {})) {
        const field = Object.values(message.fields).find((f) => jsonName(f.name) === name);
        if (!field) {
          // A proto name the CRD also lists (kubebuilder altName, e.g. jwks_uri): the same field.
          const alias = Object.values(message.fields).find((f) => f.name === name);
          if (!alias || !schema.properties[jsonName(alias.name)]) throw new Error(`${where}: CRD field ${name} is not in ${message.fullName}`);
          continue;
        }
        fields[name] = name;
        fields[field.name] = name;
        if (field.name !== name) {
          if (names[name] && names[name] !== field.name) throw new Error(`${where}: ${name} has two proto names`);
          names[name] = field.name;
        }
        const child = `${pattern}.${name}`;
        if (sub.type === 'array') {
          if (!field.repeated) throw new Error(`${where}: CRD list ${name} is not repeated in the proto`);
          nodes[child] = { t: 'array' };
          flatten(nodes, names, kind, `${child}.[]`, sub.items, field.resolvedType ?? { scalar: field.type });
        } else flatten(nodes, names, kind, child, sub, field.map ? field : (field.resolvedType ?? { scalar: field.type }));
      }
      const entry = { t: 'object', f: sortKeys(fields) };
      if (schema.required?.length) entry.r = [...schema.required].sort();
      nodes[pattern] = entry;
      return;
    }
    case 'string': {
      const entry = { t: 'string' };
      if (schema.enum) {
        if (!(type instanceof protobuf.Enum)) throw new Error(`${where}: a CRD enum that is no proto enum`);
        entry.e = Object.fromEntries(schema.enum.map((v) => {
          if (!(v in type.values)) throw new Error(`${where}: enum value ${v} is not in ${type.fullName}`);
          return [v, type.values[v]];
        }));
      } else if (type instanceof protobuf.Type && !WELL_KNOWN_LEAVES.has(type.fullName.slice(1))) {
        throw new Error(`${where}: a CRD string for message ${type.fullName}`);
      }
      nodes[pattern] = entry;
      return;
    }
    case 'integer':
    case 'number':
    case 'boolean':
      nodes[pattern] = { t: schema.type };
      return;
    default:
      throw new Error(`${where}: CRD type ${schema.type}`);
  }
}

function sortKeys(obj) {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function generate() {
  const { dir, version } = moduleDir();
  const protos = loadProtos(dir);
  const crds = parseAllDocuments(readFileSync(join(dir, 'kubernetes', 'customresourcedefinitions.gen.yaml'), 'utf8')).map((d) => d.toJS());
  const kinds = {};
  const names = {};
  let depth = 0;
  for (const [groupKind, [, message]] of Object.entries(KINDS)) {
    const [group, kind] = groupKind.split('/');
    const crd = crds.find((c) => c?.spec?.group === group && c.spec.names.kind === kind);
    if (!crd) throw new Error(`no CRD for ${groupKind} in istio.io/api ${version}`);
    const storage = crd.spec.versions.find((v) => v.storage);
    for (const v of crd.spec.versions) {
      if (JSON.stringify(v.schema.openAPIV3Schema.properties.spec) !== JSON.stringify(storage.schema.openAPIV3Schema.properties.spec)) {
        throw new Error(`${groupKind}: version ${v.name} has another spec schema than ${storage.name}`);
      }
    }
    const nodes = {};
    flatten(nodes, names, groupKind, 'spec', storage.schema.openAPIV3Schema.properties.spec, protos.lookupType(message));
    for (const pattern of Object.keys(nodes)) depth = Math.max(depth, pattern.split('.').length - 1);
    kinds[groupKind] = {
      versions: crd.spec.versions.map((v) => v.name).sort(),
      specRequired: storage.schema.openAPIV3Schema.required?.includes('spec') ?? false,
      nodes: sortKeys(nodes),
    };
  }
  return { source: `istio.io/api ${version}`, depth, protoNames: sortKeys(names), kinds };
}

const text = `${JSON.stringify(generate(), null, 1)}\n`;
if (process.argv.includes('--check')) {
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current !== text) {
    console.error('policies/portcullis/istio/data.json is not what tools/istio-api/go.mod gives: run node scripts/istio-schema.mjs');
    process.exit(1);
  }
  console.error('policies/portcullis/istio/data.json is current');
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.error(`wrote ${out}`);
}
