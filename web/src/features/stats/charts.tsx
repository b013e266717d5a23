import { countAxis, linear, ticks } from "./chart";

const RATE_COLORS = ["#8b1a1a", "#1d5fa8"];

export interface RateBar {
  label: string;
  values: (number | null)[];
}

/** Horizontal bars per unit for rates (0–1), one bar per series; labels above each group
 * so that long unit names fit on a phone. Figures are also in the table, so the SVG is
 * one labelled image. */
export function RateBars(props: { title: string; series: string[]; rows: RateBar[]; format: (v: number | null) => string }) {
  const width = 640;
  const left = 8;
  const right = 64;
  const barH = 12;
  const group = 20 + props.series.length * (barH + 4) + 8;
  const height = 24 + props.rows.length * group;
  const x = linear(1, left, width - right);
  return (
    <figure style={{ margin: 0 }}>
      <svg className="chart" viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: 720 }} role="img" aria-label={props.title} data-testid="rate-chart">
        <title>{props.title}</title>
        {ticks(1, 4).map((t) => (
          <line key={t} x1={x(t)} x2={x(t)} y1={16} y2={height} stroke="#e5e5e5" />
        ))}
        {props.rows.map((row, i) => {
          const top = 24 + i * group;
          return (
            <g key={row.label + i}>
              <text x={left} y={top + 12}>{row.label}</text>
              {row.values.map((v, j) => {
                const y = top + 20 + j * (barH + 4);
                return (
                  <g key={j}>
                    <rect x={x(0)} y={y} width={Math.max(0, x(v ?? 0) - x(0))} height={barH} fill={RATE_COLORS[j % RATE_COLORS.length]} />
                    <text x={x(v ?? 0) + 4} y={y + barH - 2}>{props.format(v)}</text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption className="toolbar muted">
        {props.series.map((s, j) => (
          <span key={s} style={{ display: "inline-flex", alignItems: "center", gap: 4 }}>
            <span aria-hidden style={{ width: 12, height: 12, background: RATE_COLORS[j % RATE_COLORS.length], display: "inline-block" }} />
            {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** A line of counts per period with a nice y axis. */
export function CountLine(props: { title: string; points: { label: string; count: number }[]; format: (n: number) => string }) {
  const width = 640;
  const height = 220;
  const pad = { left: 40, right: 12, top: 12, bottom: 28 };
  const axis = countAxis(Math.max(0, ...props.points.map((p) => p.count)));
  const y = linear(axis.max, height - pad.bottom, pad.top);
  const n = props.points.length;
  const x = (i: number) => pad.left + (n <= 1 ? 0 : ((width - pad.left - pad.right) * i) / (n - 1));
  const path = props.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.count).toFixed(1)}`).join(" ");
  const labelled = n <= 1 ? [0] : [0, Math.floor((n - 1) / 2), n - 1];
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} width="100%" style={{ maxWidth: 720 }} role="img" aria-label={props.title} data-testid="series-chart">
      <title>{props.title}</title>
      {axis.ticks.map((t) => (
        <g key={t}>
          <line x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} stroke="#e5e5e5" />
          <text x={pad.left - 6} y={y(t) + 4} textAnchor="end">{props.format(t)}</text>
        </g>
      ))}
      {n > 0 && <path d={path} fill="none" stroke="#8b1a1a" strokeWidth={2} />}
      {n <= 62 &&
        props.points.map((p, i) => <circle key={p.label + i} cx={x(i)} cy={y(p.count)} r={n > 31 ? 2 : 3} fill="#8b1a1a" />)}
      {n > 0 &&
        [...new Set(labelled)].map((i) => (
          <text key={i} x={x(i)} y={height - 8} textAnchor={i === 0 ? "start" : i === n - 1 ? "end" : "middle"}>
            {props.points[i]?.label}
          </text>
        ))}
    </svg>
  );
}
