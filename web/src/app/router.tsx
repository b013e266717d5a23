import { lazy, type ReactNode } from "react";
import { createBrowserRouter, Navigate, useLocation } from "react-router";

import { SignInPage } from "../features/auth/SignInPage";
import { HomePage } from "../features/me/HomePage";
import { useSignedIn } from "../lib/session";
import { Layout } from "./Layout";
import { SECTIONS } from "./sectionList";

// Only sign-in and the member home are in the first chunk; every other page loads on demand.
const AccountsPage = lazy(() => import("../features/accounts/AccountsPage"));
const ReportsPage = lazy(() => import("../features/reports/ReportsPage"));
const NewReportPage = lazy(() => import("../features/reports/NewReportPage"));
const ReportPage = lazy(() => import("../features/reports/ReportPage"));
const DocumentsPage = lazy(() => import("../features/documents/DocumentsPage"));
const DocumentPage = lazy(() => import("../features/documents/DocumentPage"));
const NotFound = lazy(() => import("./NotFound"));

function RequireSignIn({ children }: { children: ReactNode }) {
  const signedIn = useSignedIn();
  const location = useLocation();
  if (!signedIn) return <Navigate to="/sign-in" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}

export const router = createBrowserRouter([
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: (
      <RequireSignIn>
        <Layout />
      </RequireSignIn>
    ),
    children: [
      { index: true, element: <HomePage /> },
      { path: "accounts", element: <AccountsPage /> },
      { path: "reports", element: <ReportsPage /> },
      { path: "reports/new", element: <NewReportPage /> },
      { path: "reports/:reportId", element: <ReportPage /> },
      { path: "documents", element: <DocumentsPage /> },
      { path: "documents/:documentId", element: <DocumentPage /> },
      // The committee workspace's areas (issue 17); each page is lazy.
      ...SECTIONS.flatMap((s) => s.routes),
      { path: "*", element: <NotFound /> },
    ],
  },
]);
