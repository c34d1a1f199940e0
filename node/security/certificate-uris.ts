// The URI names in a DER certificate's subject alternative name extension (RFC 5280 §4.2.1.6),
// read by a small DER walker. Pure. It exists because an X.509 library costs about 0.5 s to load
// and 2 ms per certificate, and a server reads the peer's names on every call; the property test
// checks it against @peculiar/x509.

/** DER of the SAN extension's OID, 2.5.29.17. */
const SAN_OID = [0x55, 0x1d, 0x11];
const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
/** [3] EXPLICIT, constructed: TBSCertificate's extensions. */
const EXTENSIONS = 0xa3;
/** [6] IMPLICIT IA5String, primitive: GeneralName's uniformResourceIdentifier. */
const URI = 0x86;

/** One DER element: its tag and where its contents lie in the buffer. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/**
 * The URIs a certificate's SAN names, in order; an empty list when it has no SAN, and undefined
 * when the bytes are not a well-formed certificate or hold more than one SAN extension.
 */
export function uriSansOf(der: Uint8Array): string[] | undefined {
  try {
    const certificate = only(der, 0, der.length, SEQUENCE);
    const tbs = first(der, certificate.start, certificate.end, SEQUENCE);
    const extensions = children(der, tbs.start, tbs.end).find((child) => child.tag === EXTENSIONS);
    if (extensions === undefined) return [];
    const list = only(der, extensions.start, extensions.end, SEQUENCE);
    const sans = children(der, list.start, list.end)
      .map((extension) => sanValueOf(der, extension))
      .filter((value): value is Element => value !== undefined);
    if (sans.length > 1) return undefined;
    const san = sans[0];
    if (san === undefined) return [];
    const names = only(der, san.start, san.end, SEQUENCE);
    return children(der, names.start, names.end)
      .filter((name) => name.tag === URI)
      .map((name) => ascii(der, name));
  } catch {
    return undefined;
  }
}

/** The OCTET STRING value of an Extension when it is the SAN, else undefined. */
function sanValueOf(der: Uint8Array, extension: Element): Element | undefined {
  if (extension.tag !== SEQUENCE) throw new Error("extension is not a SEQUENCE");
  const parts = children(der, extension.start, extension.end);
  const [id, second, third] = parts;
  if (id?.tag !== OID) throw new Error("extension without an OID");
  const value = second?.tag === BOOLEAN ? third : second;
  if (value?.tag !== OCTET_STRING) throw new Error("extension without a value");
  const isSan =
    id.end - id.start === SAN_OID.length && SAN_OID.every((byte, i) => der[id.start + i] === byte);
  return isSan ? value : undefined;
}

/** The elements laid end to end in [start, end); throws unless they fill it exactly. */
function children(der: Uint8Array, start: number, end: number): Element[] {
  const found: Element[] = [];
  let at = start;
  // Bounded: every element takes at least two bytes of the range.
  while (at < end) {
    const element = read(der, at, end);
    found.push(element);
    at = element.end;
  }
  return found;
}

/** The one element filling [start, end), which must have `tag`. */
function only(der: Uint8Array, start: number, end: number, tag: number): Element {
  const element = read(der, start, end);
  if (element.tag !== tag || element.end !== end) throw new Error("unexpected element");
  return element;
}

/** The first element in [start, end), which must have `tag`. */
function first(der: Uint8Array, start: number, end: number, tag: number): Element {
  const element = read(der, start, end);
  if (element.tag !== tag) throw new Error("unexpected element");
  return element;
}

/** Reads the tag and length at `at`; the contents must end by `limit`. */
function read(der: Uint8Array, at: number, limit: number): Element {
  const tag = byteAt(der, at, limit);
  // High tag numbers (low five bits all set) do not occur in the parts read here.
  if ((tag & 0x1f) === 0x1f) throw new Error("high tag number");
  let length = byteAt(der, at + 1, limit);
  let start = at + 2;
  if (length >= 0x80) {
    const octets = length & 0x7f;
    // DER: the long form has 1 to 4 length octets here (a certificate is far below 4 GiB).
    if (octets === 0 || octets > 4) throw new Error("bad length");
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + byteAt(der, start + i, limit);
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new Error("element overruns its parent");
  return { tag, start, end };
}

function byteAt(der: Uint8Array, at: number, limit: number): number {
  const byte = at < limit ? der[at] : undefined;
  if (byte === undefined) throw new Error("truncated");
  return byte;
}

/** An IA5String's contents; a byte above 0x7f is not IA5 and makes the certificate unreadable. */
function ascii(der: Uint8Array, element: Element): string {
  let text = "";
  for (let i = element.start; i < element.end; i += 1) {
    const byte = der[i] ?? 0xff;
    if (byte > 0x7f) throw new Error("URI is not IA5");
    text += String.fromCharCode(byte);
  }
  return text;
}
