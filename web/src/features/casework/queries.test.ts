import { describe, expect, it } from "vitest";

import { transitionBody } from "./queries";

describe("transitionBody", () => {
  const values = { comment: "  Đã xác minh ", outcome: "refuted", authority: " Công an tỉnh ", reference: "CV-1" };
  it("carries only the fields the server lists for the move", () => {
    expect(transitionBody({ to: "in_review", requires: [] }, values)).toEqual({ to: "in_review", comment: "Đã xác minh" });
    expect(transitionBody({ to: "resolved", requires: ["outcome"] }, values)).toEqual({
      to: "resolved",
      comment: "Đã xác minh",
      outcome: "refuted",
    });
    expect(transitionBody({ to: "escalated", requires: ["authority", "reference"] }, values)).toEqual({
      to: "escalated",
      comment: "Đã xác minh",
      authority: "Công an tỉnh",
      reference: "CV-1",
    });
  });
  it("sends an empty comment as null", () => {
    expect(transitionBody({ to: "dismissed", requires: [] }, { comment: "   " })).toEqual({ to: "dismissed", comment: null });
  });
});
