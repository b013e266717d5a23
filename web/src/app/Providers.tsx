import { QueryClientProvider } from "@tanstack/react-query";
import { App as AntApp, ConfigProvider } from "antd";
import enUS from "antd/locale/en_US";
import viVN from "antd/locale/vi_VN";
import { useMemo, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { ApiError } from "../api";
import { useProblemMessage } from "../lib/problems";
import { createQueryClient } from "./queryClient";

// Contrast at least 4.5:1 (WCAG AA; axe checks it in the end-to-end tests): antd's
// defaults for links and secondary text are lighter than that.
const theme = {
  token: {
    colorPrimary: "#b71c1c",
    colorLink: "#8b1a1a",
    colorError: "#c41d1d",
    colorLinkHover: "#b71c1c",
    colorTextDescription: "rgba(0, 0, 0, 0.65)",
    colorTextTertiary: "rgba(0, 0, 0, 0.65)",
    colorTextPlaceholder: "rgba(0, 0, 0, 0.6)",
    borderRadius: 6,
    fontSize: 15,
  },
};

/** The stale-record dialog and the error notifications need antd's App context. */
function QueryLayer({ children }: { children: ReactNode }) {
  const { modal, notification } = AntApp.useApp();
  const { t } = useTranslation();
  const message = useProblemMessage();
  const [client] = useState(() =>
    createQueryClient({
      onStale: () => {
        modal.confirm({
          title: t("errors.staleTitle"),
          content: t("errors.staleBody"),
          okText: t("errors.reload"),
          cancelButtonProps: { style: { display: "none" } },
          onOk: () => client.invalidateQueries(),
        });
      },
      onError: (error) => {
        if (error instanceof ApiError && error.status === 401) return; // signed out
        notification.error({ message: message(error), placement: "top" });
      },
    }),
  );
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}

export function Providers({ children }: { children: ReactNode }) {
  const { i18n } = useTranslation();
  const locale = useMemo(() => (i18n.language === "en" ? enUS : viVN), [i18n.language]);
  return (
    <ConfigProvider locale={locale} theme={theme}>
      <AntApp>
        <QueryLayer>{children}</QueryLayer>
      </AntApp>
    </ConfigProvider>
  );
}
