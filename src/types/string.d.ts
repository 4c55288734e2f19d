// Well-formed Unicode strings (ES2024), in Node since 20: replacing lone surrogates as Go's decoders do.
interface String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
