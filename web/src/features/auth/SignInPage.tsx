import { useQueryClient } from "@tanstack/react-query";
import { Button, Input } from "antd";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation, useNavigate } from "react-router";

import { api } from "../../api";
import { LanguageSelect } from "../../app/Layout";
import { ProblemAlert } from "../../components/ProblemAlert";
import { useSignedIn } from "../../lib/session";

/** Sign-in. A native form with antd inputs rather than antd's Form (rc-field-form and its
 * validator weigh ~30 KB gzip, and this page is in the first bundle). */
export function SignInPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const signedIn = useSignedIn();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<{ username?: boolean; password?: boolean }>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? "/";

  if (signedIn) return <Navigate to={from} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const gaps = { username: !username.trim(), password: !password };
    setMissing(gaps);
    if (gaps.username || gaps.password) return;
    setBusy(true);
    setError(null);
    try {
      await api.signIn(username.trim(), password);
      queryClient.clear();
      navigate(from, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div style={{ textAlign: "right", marginBottom: 8 }}>
        <LanguageSelect />
      </div>
      <div className="panel panel-body">
        <h1>{t("signIn.title")}</h1>
        <p className="muted">{t("signIn.intro")}</p>
        <ProblemAlert error={error} />
        <form onSubmit={submit} noValidate className="stack">
          <div className="field">
            <label htmlFor="username">{t("signIn.username")}</label>
            <Input
              id="username"
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              size="large"
              value={username}
              status={missing.username ? "error" : undefined}
              aria-invalid={missing.username}
              aria-describedby={missing.username ? "username-error" : undefined}
              onChange={(e) => setUsername(e.target.value)}
            />
            {missing.username && (
              <div id="username-error" className="field-error">
                {t("signIn.required", { field: t("signIn.username").toLowerCase() })}
              </div>
            )}
          </div>
          <div className="field">
            <label htmlFor="password">{t("signIn.password")}</label>
            <Input.Password
              id="password"
              name="password"
              autoComplete="current-password"
              size="large"
              value={password}
              status={missing.password ? "error" : undefined}
              aria-invalid={missing.password}
              aria-describedby={missing.password ? "password-error" : undefined}
              onChange={(e) => setPassword(e.target.value)}
            />
            {missing.password && (
              <div id="password-error" className="field-error">
                {t("signIn.required", { field: t("signIn.password").toLowerCase() })}
              </div>
            )}
          </div>
          <Button type="primary" htmlType="submit" block size="large" loading={busy}>
            {t("signIn.submit")}
          </Button>
        </form>
      </div>
    </main>
  );
}
