import { describe, expect, it } from "vitest";
import { readToken } from "./token";

const TOKEN = "0f8e2b7c-4a61-4f0e-9d7e-3c5b1a2d9e80.q3Zx_-9AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";

describe("readToken", () => {
  it("takes a token as the link carries it", () => {
    const query = Object.fromEntries(new URL(`http://site/reset-password?token=${TOKEN}`).searchParams);
    expect(readToken(query.token)).toBe(TOKEN);
  });

  it("drops whitespace a wrapped mail line left inside it", () => {
    expect(readToken(`${TOKEN.slice(0, 40)}\n ${TOKEN.slice(40)}`)).toBe(TOKEN);
    expect(readToken(` ${TOKEN}\t`)).toBe(TOKEN);
  });

  it("drops what a copy from a sentence left at its end, not the dot inside", () => {
    expect(readToken(`${TOKEN}.`)).toBe(TOKEN);
    expect(readToken(`${TOKEN}>`)).toBe(TOKEN);
    expect(readToken(`${TOKEN}).`)).toBe(TOKEN);
    expect(readToken(TOKEN)).toContain(".");
  });

  it("is null when there is no token", () => {
    expect(readToken(undefined)).toBeNull();
    expect(readToken("")).toBeNull();
    expect(readToken("  ")).toBeNull();
    expect(readToken(".")).toBeNull();
  });
});
