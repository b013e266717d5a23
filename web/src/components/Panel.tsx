import type { ReactNode } from "react";

/** A titled section. Plain markup rather than antd's Card, which pulls in Tabs: the
 * sign-in + home bundle has a 250 KB gzip budget. */
export function Panel(props: { title: ReactNode; extra?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="panel" data-testid={props.testId}>
      <header className="panel-head">
        <h2 className="card-title">{props.title}</h2>
        {props.extra && <span>{props.extra}</span>}
      </header>
      <div className="panel-body">{props.children}</div>
    </section>
  );
}

/** A plain list with an empty text (antd's List pulls in Pagination and Select). */
export function PlainList<T>(props: { items: T[]; empty: string; render: (item: T) => ReactNode; keyOf: (item: T) => string }) {
  if (props.items.length === 0) return <p className="empty">{props.empty}</p>;
  return (
    <ul className="plain-list">
      {props.items.map((item) => (
        <li key={props.keyOf(item)}>{props.render(item)}</li>
      ))}
    </ul>
  );
}
