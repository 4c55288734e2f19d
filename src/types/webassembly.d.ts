// Node has WebAssembly as a global, but TypeScript only declares it in the DOM libraries, which would also
// bring browser globals into a server program. These are the parts Portcullis uses.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
