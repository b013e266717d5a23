import { AppstoreOutlined, FileTextOutlined, FlagOutlined, HomeOutlined, IdcardOutlined, LogoutOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { Button } from "antd";
import { Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { NavLink, Outlet, useNavigate } from "react-router";

import { api } from "../api";
import { LANGUAGES, setLanguage, type Language } from "../i18n";
import { usePrincipal } from "../lib/me";
import { rolesOf, sectionsFor } from "./nav";
import { SECTIONS } from "./sectionList";

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

/** The workspace entries this caller's roles open (`/auth/me`); none for a plain member. */
function useWorkspaceSections() {
  const principal = usePrincipal();
  return sectionsFor(SECTIONS, rolesOf(principal.data));
}

/** Phones first: a bottom tab bar under 768 px, a top bar above. The committee workspace's
 * entries are a second row on wide screens; on phones the tab bar's "more" opens them. */
export function Layout() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const sections = useWorkspaceSections();
  const [moreOpen, setMoreOpen] = useState(false);
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
          {sections.length > 0 && (
            <button
              type="button"
              className="nav-link nav-more"
              aria-expanded={moreOpen}
              aria-controls="workspace-nav"
              onClick={() => setMoreOpen((o) => !o)}
            >
              <AppstoreOutlined />
              <span>{t("nav.more")}</span>
            </button>
          )}
        </nav>
        <span className="tools">
          <LanguageSelect />
          <Button size="small" icon={<LogoutOutlined />} onClick={signOut}>
            {t("app.signOut")}
          </Button>
        </span>
      </header>
      {sections.length > 0 && (
        <nav id="workspace-nav" className={moreOpen ? "subnav open" : "subnav"} aria-label={t("nav.workspace")}>
          {sections.map((s) => (
            <NavLink key={s.key} to={s.to} className="nav-link" onClick={() => setMoreOpen(false)}>
              {s.icon}
              <span>{t(`nav.${s.key}`)}</span>
            </NavLink>
          ))}
        </nav>
      )}
      <main id="main" className="content">
        <Suspense fallback={<p>{t("app.loading")}</p>}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
