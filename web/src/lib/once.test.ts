import { describe, expect, it, vi } from "vitest";
import { onceFor } from "./once";

describe("onceFor", () => {
  it("runs once per key, however many callers ask, before and after it settles", async () => {
    const cache = new Map<string, Promise<string>>();
    const run = vi.fn(async (key: string) => `done ${key}`);
    const [a, b] = await Promise.all([
      onceFor(cache, "t1", run, () => false),
      onceFor(cache, "t1", run, () => false),
    ]);
    expect(await onceFor(cache, "t1", run, () => false)).toBe("done t1");
    expect([a, b]).toEqual(["done t1", "done t1"]);
    expect(run).toHaveBeenCalledTimes(1);
    await onceFor(cache, "t2", run, () => false);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it("runs again after an outcome that may be retried, not after others", async () => {
    const cache = new Map<string, Promise<number>>();
    const answers = [0, 400, 204];
    const run = vi.fn(async () => answers.shift()!);
    const retryable = (status: number) => status === 0;
    expect(await onceFor(cache, "t", run, retryable)).toBe(0);
    expect(await onceFor(cache, "t", run, retryable)).toBe(400);
    expect(await onceFor(cache, "t", run, retryable)).toBe(400);
    expect(run).toHaveBeenCalledTimes(2);
  });
});
