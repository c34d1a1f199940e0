// Goal: tokens are stored only as slow salted hashes, a token matches only its own hash, and the
// verifier's cache never outlives the hash it matched (removal, rotation) nor its bound.
// Method: real scrypt at the lowest cost parseTokenHash accepts (N = 1024), on access
// components built with the pure core.

import { describe, expect, it } from "vitest";
import {
  TokenVerifier,
  hashToken,
  isTokenShaped,
  newToken,
  verifyToken,
} from "../../../../node/security/tokens.js";
import {
  type Access,
  addUser,
  emptyAccess,
  parseTokenHash,
  removeUser,
  setTokenHashes,
} from "../../../../node/core/access.js";

const CHEAP = { n: 1024, r: 8, p: 1 };

describe("tokens", () => {
  it("newToken makes distinct dkv_ tokens of 16 bytes of salt and 32 of secret", () => {
    const [a, b] = [newToken(), newToken()];
    expect(a).not.toBe(b);
    expect(isTokenShaped(a)).toBe(true);
    expect(a).toMatch(/^dkv_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
  });

  it("hashToken stores scrypt$N$r$p$salt$hash, never the secret", async () => {
    const token = newToken();
    const hash = await hashToken(token, CHEAP);
    const parsed = parseTokenHash(hash);
    expect(parsed).toMatchObject({ n: 1024, r: 8, p: 1, salt: token.slice(4, 26) });
    expect(hash).not.toContain(token.slice(27));
    expect(parseTokenHash(await hashToken(token))).toMatchObject({ n: 32768, r: 8, p: 1 });
  });

  it("hashToken refuses text that is not a token, and a cost out of bounds", async () => {
    await expect(hashToken("hunter2", CHEAP)).rejects.toThrow(/not a dkv token/);
    await expect(hashToken(newToken(), { n: 512, r: 8, p: 1 })).rejects.toThrow(/out of bounds/);
  });

  it("verifyToken matches a token to its own hash only", async () => {
    const [a, b] = [newToken(), newToken()];
    const [hashA, hashB] = await Promise.all([hashToken(a, CHEAP), hashToken(b, CHEAP)]);
    expect(await verifyToken([hashB, hashA], a)).toBe(hashA);
    expect(await verifyToken([hashB], a)).toBeUndefined();
    // Same salt, another secret: the secret is what is checked.
    const forged = `${a.slice(0, 27)}${b.slice(27)}`;
    expect(await verifyToken([hashA], forged)).toBeUndefined();
    expect(await verifyToken([hashA], "not a token")).toBeUndefined();
  });
});

describe("TokenVerifier", () => {
  async function aliceWith(token: string): Promise<Access> {
    return addUser(emptyAccess, "alice", [await hashToken(token, CHEAP)]);
  }

  it("verifies once with scrypt, then from the cache", async () => {
    const token = newToken();
    const access = await aliceWith(token);
    const verifier = new TokenVerifier();
    const [first, second] = await Promise.all([
      verifier.verify(access, token),
      verifier.verify(access, token),
    ]);
    expect(first?.user).toBe("alice");
    expect(second?.user).toBe("alice");
    expect(verifier.stats.derivations).toBe(1);
    expect((await verifier.verify(access, token))?.user).toBe("alice");
    expect(verifier.stats).toMatchObject({ hits: 1, derivations: 1 });
  });

  it("costs no scrypt for a token whose salt no user holds", async () => {
    const access = await aliceWith(newToken());
    const verifier = new TokenVerifier();
    expect(await verifier.verify(access, newToken())).toBeUndefined();
    expect(await verifier.verify(access, "Bearer nonsense")).toBeUndefined();
    expect(verifier.stats.derivations).toBe(0);
  });

  it("refuses a cached token once its user is removed or its hash rotated away", async () => {
    const token = newToken();
    const access = await aliceWith(token);
    const verifier = new TokenVerifier();
    expect(await verifier.verify(access, token)).toBeDefined();
    expect(await verifier.verify(removeUser(access, "alice"), token)).toBeUndefined();
    const rotated = setTokenHashes(access, "alice", [await hashToken(newToken(), CHEAP)]);
    expect(await verifier.verify(rotated, token)).toBeUndefined();
    // Added again with the same token hash: a fresh check, then cached again.
    expect((await verifier.verify(access, token))?.user).toBe("alice");
  });

  it("remembers at most entriesMax tokens, least recently used out", async () => {
    const tokens = [newToken(), newToken(), newToken()];
    const hashes = await Promise.all(tokens.map((token) => hashToken(token, CHEAP)));
    const access = addUser(emptyAccess, "bob", hashes);
    const verifier = new TokenVerifier({ entriesMax: 2 });
    for (const token of tokens) await verifier.verify(access, token);
    expect(verifier.size).toBe(2);
    expect(verifier.stats.derivations).toBe(3);
    await verifier.verify(access, tokens[0]!);
    expect(verifier.stats.derivations).toBe(4);
    await verifier.verify(access, tokens[2]!);
    expect(verifier.stats).toMatchObject({ hits: 1, derivations: 4 });
  });

  it("runs scrypt once for a wrong secret, then refuses that token from memory", async () => {
    const token = newToken();
    const access = await aliceWith(token);
    const forged = `${token.slice(0, 27)}${newToken().slice(27)}`;
    const verifier = new TokenVerifier({ failedChecksPerSecondMax: 4, monotonicMs: () => 0 });
    expect(await verifier.check(access, forged, "10.0.0.1")).toEqual({
      ok: false,
      reason: "failed",
    });
    expect(await verifier.check(access, forged, "10.0.0.1")).toEqual({
      ok: false,
      reason: "failed",
    });
    expect(verifier.stats).toMatchObject({ derivations: 1, failures: 2, throttled: 0 });
  });

  it("refuses without scrypt an address past its failed-check budget; others and known tokens pass", async () => {
    const token = newToken();
    const access = await aliceWith(token);
    let nowMs = 0;
    const verifier = new TokenVerifier({ failedChecksPerSecondMax: 1, monotonicMs: () => nowMs });
    const wrong = (index: number): string => `${token.slice(0, 27)}${`${index}`.padStart(43, "A")}`;
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map(
        async (index) =>
          (await verifier.check(access, wrong(index), "a")).ok ||
          (await verifier.check(access, wrong(index), "a")),
      ),
    );
    expect(outcomes.length).toBe(4);
    expect(verifier.stats.derivations).toBe(2);
    expect(verifier.stats.throttled).toBeGreaterThan(0);
    expect(await verifier.check(access, wrong(9), "a")).toEqual({ ok: false, reason: "throttled" });
    // Another address is not held back by the first one's failures.
    expect((await verifier.check(access, token, "b")).ok).toBe(true);
    // Once verified, a token is answered from the cache even from a throttled address.
    expect((await verifier.check(access, token, "a")).ok).toBe(true);
    nowMs = 1000;
    expect(await verifier.check(access, wrong(10), "a")).toEqual({ ok: false, reason: "failed" });
  });
});
