import { describe, expect, it } from "vitest";

import { formatCount, formatRate, linear, niceCeil, ticks, totalsByKey, totalsByPeriod } from "./chart";

describe("chart scales", () => {
  it("rounds an axis maximum up to a nice number", () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(1)).toBe(1);
    expect(niceCeil(3)).toBe(5);
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(12)).toBe(20);
    expect(niceCeil(23)).toBe(25);
    expect(niceCeil(0.62)).toBe(1);
    expect(niceCeil(0.18)).toBe(0.2);
  });

  it("spaces ticks evenly from zero", () => {
    expect(ticks(20, 4)).toEqual([0, 5, 10, 15, 20]);
    expect(ticks(1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it("maps a domain onto a range, inverted for a y axis", () => {
    const y = linear(10, 100, 0);
    expect(y(0)).toBe(100);
    expect(y(5)).toBe(50);
    expect(y(10)).toBe(0);
    expect(linear(0, 0, 10)(0)).toBe(0); // an empty series draws at the baseline
  });
});

describe("series", () => {
  const points = [
    { period_start: "2026-12-02T17:00:00Z", key: "fake_news", count: 2 },
    { period_start: "2026-12-01T17:00:00Z", key: "scam", count: 1 },
    { period_start: "2026-12-02T17:00:00Z", key: "scam", count: 3 },
    { period_start: "2026-12-01T17:00:00Z", key: "fake_news", count: 0 },
  ];

  it("sums the keys of each period, in time order", () => {
    expect(totalsByPeriod(points)).toEqual([
      { period: "2026-12-01T17:00:00Z", count: 1 },
      { period: "2026-12-02T17:00:00Z", count: 5 },
    ]);
  });

  it("sums each key over the range, largest first", () => {
    expect(totalsByKey(points)).toEqual([
      { key: "scam", count: 4 },
      { key: "fake_news", count: 2 },
    ]);
  });
});

describe("figures", () => {
  it("formats rates and counts the Vietnamese way", () => {
    expect(formatRate(0.5, "vi")).toMatch(/^50\s?%$/);
    expect(formatRate(null, "vi")).toBe("—");
    expect(formatCount(12345, "vi")).toBe("12.345");
    expect(formatCount(12345, "en")).toBe("12,345");
  });
});
