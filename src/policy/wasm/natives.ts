/**
 * Builtins that OPA compiles into the WebAssembly itself (its C library) but that answer differently from
 * OPA's Go builtins: the C base64 decoders skip characters outside the alphabet, where Go refuses the
 * string. Each is redirected to Portcullis' host implementation by rewriting the C function's body into
 * a call of the host import, so a policy decides as it does under OPA. `id` is the builtin id passed to
 * the host: far above the ids a policy numbers its own host builtins with.
 */
export const NATIVE_OVERRIDES: ReadonlyArray<{ fn: string; builtin: string; arity: number; id: number }> = [
  { fn: 'opa_base64_url_decode', builtin: 'base64url.decode', arity: 1, id: 0x40000001 },
  { fn: 'opa_base64_decode', builtin: 'base64.decode', arity: 1, id: 0x40000002 },
  { fn: 'opa_base64_is_valid', builtin: 'base64.is_valid', arity: 1, id: 0x40000003 },
];

/** A module whose overridden native builtins call the host; the module unchanged when it uses none of them. */
export function overrideNatives(wasm: Uint8Array): Uint8Array {
  const module = readModule(wasm);
  const names = functionNames(module);
  const patches = new Map<number, Uint8Array>();
  for (const o of NATIVE_OVERRIDES) {
    const index = names.get(o.fn);
    if (index === undefined) continue;
    const type = module.types[module.funcTypes[index - module.importedFuncs] ?? -1];
    if (!type || type.params.length !== o.arity || !type.params.every((p) => p === I32) || type.results.length !== 1 || type.results[0] !== I32) {
      throw new Error(`cannot redirect ${o.fn} to the host: its signature is not ${o.arity} i32 to i32`);
    }
    const dispatcher = module.funcImports.get(`opa_builtin${o.arity}`);
    if (dispatcher === undefined) throw new Error(`cannot redirect ${o.fn} to the host: the module does not import opa_builtin${o.arity}`);
    const body = [0x00, 0x41, ...sleb(o.id), 0x41, 0x00];
    for (let i = 0; i < o.arity; i++) body.push(0x20, ...uleb(i));
    body.push(0x10, ...uleb(dispatcher), 0x0b);
    patches.set(index - module.importedFuncs, Uint8Array.from(body));
  }
  if (patches.size === 0) return wasm;

  const code = module.sections.find((s) => s.id === 10);
  if (!code) return wasm;
  const r = new ByteReader(wasm, code.start);
  const count = r.u32();
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const body = patches.get(i) ?? wasm.subarray(r.at, r.at + size);
    bodies.push(Uint8Array.from([...uleb(body.length)]), body);
    r.at += size;
  }
  const payload = concat([Uint8Array.from(uleb(count)), ...bodies]);
  return concat([wasm.subarray(0, code.headerStart), Uint8Array.from([10, ...uleb(payload.length)]), payload, wasm.subarray(code.end)]);
}

const I32 = 0x7f;

interface Section {
  id: number;
  headerStart: number;
  start: number;
  end: number;
}

interface Module {
  sections: Section[];
  types: Array<{ params: number[]; results: number[] }>;
  importedFuncs: number;
  funcImports: Map<string, number>;
  funcTypes: number[];
  bytes: Uint8Array;
}

function readModule(bytes: Uint8Array): Module {
  const r = new ByteReader(bytes, 8);
  const m: Module = { sections: [], types: [], importedFuncs: 0, funcImports: new Map(), funcTypes: [], bytes };
  while (r.at < bytes.length) {
    const headerStart = r.at;
    const id = r.byte();
    const size = r.u32();
    const section = { id, headerStart, start: r.at, end: r.at + size };
    m.sections.push(section);
    const s = new ByteReader(bytes, section.start);
    if (id === 1) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        s.byte(); // 0x60
        const params = s.vec(() => s.byte());
        const results = s.vec(() => s.byte());
        m.types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = s.u32(), i = 0; i < n; i++) {
        s.name();
        const field = s.name();
        const kind = s.byte();
        if (kind === 0) {
          s.u32();
          m.funcImports.set(field, m.importedFuncs++);
        } else if (kind === 1) {
          s.byte();
          limits(s);
        } else if (kind === 2) limits(s);
        else {
          s.byte();
          s.byte();
        }
      }
    } else if (id === 3) {
      m.funcTypes = s.vec(() => s.u32());
    }
    r.at = section.end;
  }
  return m;
}

function limits(s: ByteReader): void {
  const flags = s.byte();
  s.u32();
  if (flags & 1) s.u32();
}

/** Function index by name, from the "name" custom section OPA's compiler keeps. */
function functionNames(m: Module): Map<string, number> {
  const out = new Map<string, number>();
  for (const section of m.sections) {
    if (section.id !== 0) continue;
    const r = new ByteReader(m.bytes, section.start);
    if (r.name() !== 'name') continue;
    while (r.at < section.end) {
      const sub = r.byte();
      const size = r.u32();
      const end = r.at + size;
      if (sub === 1) {
        for (let n = r.u32(), i = 0; i < n; i++) {
          const index = r.u32();
          out.set(r.name(), index);
        }
      }
      r.at = end;
    }
  }
  return out;
}

class ByteReader {
  constructor(
    private readonly b: Uint8Array,
    public at: number,
  ) {}

  byte(): number {
    return this.b[this.at++] as number;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      result |= (x & 0x7f) << shift;
      if (!(x & 0x80)) return result >>> 0;
      shift += 7;
    }
  }

  name(): string {
    const n = this.u32();
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.at, n).toString('utf8');
    this.at += n;
    return s;
  }

  vec<T>(item: () => T): T[] {
    const out: T[] = [];
    for (let n = this.u32(), i = 0; i < n; i++) out.push(item());
    return out;
  }
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
