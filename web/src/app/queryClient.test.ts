import { MutationObserver } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../api/errors";
import { createQueryClient } from "./queryClient";

function stale(): ApiError {
  return new ApiError(412, { code: "version_mismatch", title: "Precondition failed", detail: "Đã bị thay đổi" });
}

describe("412 handling", () => {
  it("offers a reload for a stale write, instead of a generic error, even on inline forms", async () => {
    const onStale = vi.fn();
    const onError = vi.fn();
    const client = createQueryClient({ onStale, onError });
    for (const meta of [undefined, { inline: true }]) {
      const observer = new MutationObserver(client, { mutationFn: () => Promise.reject(stale()), meta });
      await observer.mutate().catch(() => undefined);
    }
    expect(onStale).toHaveBeenCalledTimes(2);
    expect(onStale.mock.calls[0]?.[0]).toMatchObject({ status: 412, code: "version_mismatch" });
    expect(onError).not.toHaveBeenCalled();
  });

  it("reports other failures unless the form shows them in place", async () => {
    const onStale = vi.fn();
    const onError = vi.fn();
    const client = createQueryClient({ onStale, onError });
    const conflict = new ApiError(409, { code: "invalid_transition", title: "Conflict" });
    await new MutationObserver(client, { mutationFn: () => Promise.reject(conflict) }).mutate().catch(() => undefined);
    await new MutationObserver(client, { mutationFn: () => Promise.reject(conflict), meta: { inline: true } })
      .mutate()
      .catch(() => undefined);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onStale).not.toHaveBeenCalled();
  });
});
