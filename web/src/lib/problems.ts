import { useTranslation } from "react-i18next";

import { ApiError, NetworkError } from "../api";

/** A failure as one message in the user's language: the server's localised detail, the
 * retry delay of a 429, or what to do when the network failed. */
export function useProblemMessage(): (error: unknown) => string {
  const { t } = useTranslation();
  return (error) => {
    if (error instanceof NetworkError) return t("errors.network");
    if (error instanceof ApiError) {
      if (error.isRateLimited) {
        return error.retryAfter !== null
          ? t("errors.rateLimited", { seconds: error.retryAfter })
          : t("errors.rateLimitedNoTime");
      }
      if (error.status >= 500 && !error.detail) return t("errors.unexpected", { requestId: error.requestId ?? "?" });
      return error.detail ?? error.title;
    }
    return t("errors.unexpected", { requestId: "?" });
  };
}
