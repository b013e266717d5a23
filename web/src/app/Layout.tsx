import { FileTextOutlined, FlagOutlined, HomeOutlined, IdcardOutlined, LogoutOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "antd";
import { Suspense } from "react";
import { useTranslation } from "react-i18next";
import { NavLink, Outlet, useNavigate } from "react-router";

import { api } from "../api";
import { usePrincipal } from "../lib/me";
import { SECTIONS } from "./sectionList";
import { type Role, visible } from "./sections";
import { LANGUAGES, setLanguage, type Language } from "../i18n";

/** Two buttons rather than a Select (rc-select is heavy for the first page). */
export function LanguageSelect() {
  const { t, i18n } = useTranslation();
  return (
    <span className="lang-switch" role="group" aria-label={t("app.language")}>
      {LANGUAGES.map((l: Language) => (
        <Button
          key={l}
          size="small"
          type={i18n.language === l ? "primary" : "text"}
          aria-pressed={i18n.language === l}
          lang={l}
          onClick={() => setLanguage(l)}
        >
          {l === "vi" ? "VI" : "EN"}
          <span className="sr-only">{t(`lang.${l}`)}</span>
        </Button>
      ))}
    </span>
  );
}

const NAV = [
  { to: "/", key: "home", icon: <HomeOutlined /> },
  { to: "/accounts", key: "accounts", icon: <IdcardOutlined /> },
  { to: "/reports", key: "reports", icon: <FlagOutlined /> },
  { to: "/documents", key: "documents", icon: <FileTextOutlined /> },
] as const;

/** Phones first: a bottom tab bar under 768 px, a top bar above. */
export function Layout() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const principal = usePrincipal();
  const roles = new Set<Role>(principal.data?.roles ?? []);
  // Minimal role-aware links to the workspace areas; the fuller shell replaces this.
  const sections = SECTIONS.filter((s) => visible(s, roles));
  const signOut = async () => {
    await api.signOut();
    queryClient.clear();
    navigate("/sign-in", { replace: true });
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <span className="brand">{t("app.name")}</span>
        <nav className="nav" aria-label={t("nav.label")}>
          {NAV.map((n) => (
            <NavLink key={n.key} to={n.to} end={n.to === "/"} className="nav-link">
              {n.icon}
              <span>{t(`nav.${n.key}`)}</span>
            </NavLink>
          ))}
          {sections.map((s) => (
            <NavLink key={s.key} to={s.to} className="nav-link">
              {s.icon}
              <span>{t(`nav.${s.key}`)}</span>
            </NavLink>
          ))}
        </nav>
        <span className="tools">
          <LanguageSelect />
          <Button size="small" icon={<LogoutOutlined />} onClick={signOut}>
            {t("app.signOut")}
          </Button>
        </span>
      </header>
      <main id="main" className="content">
        <Suspense fallback={<p>{t("app.loading")}</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
