import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'maxmind';
import { isInternal } from './internal.js';

const require = createRequire(import.meta.url);

/** The CC0 IP-to-country database (geo-whois-asn-country) shipped as an npm package. */
function defaultCountryDatabase(): string {
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/** geo-whois-asn-country records carry country_code; MaxMind's GeoLite2/GeoIP2 country.iso_code. */
type CountryRecord = Response & {
  country_code?: string;
  country?: { iso_code?: string };
};

/**
 * ISO 3166 country of an address, "internal" for private, loopback and link-local ones, undefined when the
 * database does not know it. Lookups are remembered (bounded): callers repeat, and the tree walk does not
 * come for free.
 */
export class CountryLookup {
  private readonly reader: Reader<CountryRecord>;
  private readonly cache = new Map<string, string | undefined>();

  constructor(
    path = defaultCountryDatabase(),
    private readonly cacheSize = 50000,
  ) {
    this.reader = new Reader<CountryRecord>(readFileSync(path));
  }

  country(ip: string): string | undefined {
    if (this.cache.has(ip)) return this.cache.get(ip);
    const country = this.lookup(ip);
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(ip, country);
    return country;
  }

  private lookup(ip: string): string | undefined {
    if (!isIP(ip)) return undefined;
    if (isInternal(ip)) return 'internal';
    const record = this.reader.get(ip);
    return record?.country_code ?? record?.country?.iso_code;
  }
}
