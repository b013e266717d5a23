import { Skeleton } from "antd";
import type { ReactNode } from "react";

import { ProblemAlert } from "./ProblemAlert";

/** Loading and failure of a page's main query, the same way everywhere. */
export function PageState(props: { loading: boolean; error: unknown; children: ReactNode }) {
  if (props.error) return <ProblemAlert error={props.error} />;
  if (props.loading) return <Skeleton active />;
  return <>{props.children}</>;
}
