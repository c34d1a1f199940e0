// Goal: the small DER walker reads exactly the URIs an X.509 library reads from a certificate's
// SAN, whatever else the certificate carries, and never throws on damaged bytes.
// Method: certificates with random SANs and extensions, made and read back by @peculiar/x509
// (the oracle); then every truncation and random byte flips of one of them.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { fc, test } from "@fast-check/vitest";
import { webcrypto } from "node:crypto";
import { beforeAll, expect } from "vitest";
import { uriSansOf } from "../../../../node/security/certificate-uris.js";

const RUNS = 40;
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
let keys: webcrypto.CryptoKeyPair;

beforeAll(async () => {
  keys = await webcrypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
});

const ia5 = fc.string({ unit: fc.constantFrom(..."abcdefgh:/.-_@%0123456789"), maxLength: 300 });
const generalName: fc.Arbitrary<x509.JsonGeneralName> = fc.oneof(
  ia5.map((value) => ({ type: "url" as const, value: `dkv:${value}` })),
  ia5.map((value) => ({ type: "url" as const, value })),
  fc.domain().map((value) => ({ type: "dns" as const, value })),
  fc.ipV4().map((value) => ({ type: "ip" as const, value })),
  fc.emailAddress().map((value) => ({ type: "email" as const, value })),
);
const shape = fc.record({
  names: fc.array(generalName, { maxLength: 12 }),
  withSan: fc.boolean(),
  critical: fc.boolean(),
  others: fc.boolean(),
});

type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

async function certificate(spec: Shape): Promise<Uint8Array> {
  const extensions: x509.Extension[] = [];
  if (spec.others) extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  if (spec.withSan) {
    extensions.push(new x509.SubjectAlternativeNameExtension(spec.names, spec.critical));
  }
  if (spec.others) {
    extensions.push(
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
    );
  }
  const made = await x509.X509CertificateGenerator.createSelfSigned(
    { name: "CN=p", keys, signingAlgorithm: ALGORITHM, extensions },
    webcrypto,
  );
  return new Uint8Array(made.rawData);
}

function oracle(der: Uint8Array): string[] {
  const san = new x509.X509Certificate(der).getExtension(x509.SubjectAlternativeNameExtension);
  return (san?.names.toJSON() ?? [])
    .filter((name) => name.type === "url")
    .map((name) => name.value);
}

test.prop([shape], { numRuns: RUNS })("reads the SAN URIs the library reads", async (spec) => {
  const der = await certificate(spec);
  expect(uriSansOf(der)).toEqual(oracle(der));
});

test.prop(
  [
    shape,
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
  ],
  {
    numRuns: RUNS / 2,
  },
)("never throws on damaged bytes, and reads no truncated certificate", async (spec, flips) => {
  const der = await certificate(spec);
  const readTruncated = [];
  for (let length = 0; length < der.length; length += 1) {
    if (uriSansOf(der.subarray(0, length)) !== undefined) readTruncated.push(length);
  }
  expect(readTruncated).toEqual([]);
  const damaged = new Uint8Array(der);
  for (const [at, xor] of flips) damaged[at % der.length] = (damaged[at % der.length] ?? 0) ^ xor;
  expect(() => uriSansOf(damaged)).not.toThrow();
});
