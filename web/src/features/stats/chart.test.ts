import { describe, expect, it } from "vitest";

import {
  countAxis,
  filledTotals,
  formatCount,
  formatRate,
  linear,
  periodStarts,
  ticks,
  totalsByKey,
  totalsByPeriod,
} from "./chart";

describe("chart scales", () => {
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

describe("count axis", () => {
  it("steps by whole numbers", () => {
    expect(countAxis(0)).toEqual({ max: 1, ticks: [0, 1] });
    expect(countAxis(3)).toEqual({ max: 3, ticks: [0, 1, 2, 3] });
    expect(countAxis(5)).toEqual({ max: 6, ticks: [0, 2, 4, 6] });
    expect(countAxis(17)).toEqual({ max: 20, ticks: [0, 5, 10, 15, 20] });
  });
});

describe("periods in Vietnam time", () => {
  it("cuts days at midnight UTC+7", () => {
    expect(periodStarts("2026-12-01T20:00:00Z", "2026-12-04T00:00:00Z", "day")).toEqual([
      "2026-12-01T17:00:00.000Z",
      "2026-12-02T17:00:00.000Z",
      "2026-12-03T17:00:00.000Z",
    ]);
  });

  it("starts weeks on Monday and months on the first", () => {
    // Thursday 3 Dec 2026, 10:00 in Vietnam: its week began on Monday 30 Nov.
    expect(periodStarts("2026-12-03T03:00:00Z", "2026-12-15T00:00:00Z", "week")).toEqual([
      "2026-11-29T17:00:00.000Z",
      "2026-12-06T17:00:00.000Z",
      "2026-12-13T17:00:00.000Z",
    ]);
    expect(periodStarts("2026-11-15T00:00:00Z", "2027-01-02T00:00:00Z", "month")).toEqual([
      "2026-10-31T17:00:00.000Z",
      "2026-11-30T17:00:00.000Z",
      "2026-12-31T17:00:00.000Z",
    ]);
  });

  it("fills the periods without reports with zero", () => {
    const filled = filledTotals(
      [{ period_start: "2026-12-02T17:00:00Z", key: "scam", count: 2 }],
      "2026-12-01T17:00:00Z",
      "2026-12-04T17:00:00Z",
      "day",
    );
    expect(filled.map((p) => p.count)).toEqual([0, 2, 0]);
  });
});
