import type { EvalScoreLine } from '../lib/api-types.js'

const ROW = 30
const LABEL_W = 70
const BAR_W = 260
const TEXT_W = 130

/** `66.7%`, or `–` when nothing was scored yet. */
export function percent(accuracy: number | null): string {
  return accuracy === null ? '–' : `${(accuracy * 100).toFixed(1)}%`
}

/**
 * Accuracy overall and per GAIA level as horizontal bars (plain SVG): the
 * bar is correct / scored, the text says both counts.
 */
export function LevelChart(props: { overall: EvalScoreLine; levels: Record<string, EvalScoreLine> }) {
  const rows: { name: string; line: EvalScoreLine }[] = [
    ...Object.entries(props.levels).map(([level, line]) => ({ name: `Level ${level}`, line })),
    { name: 'All', line: props.overall },
  ]
  const height = rows.length * ROW
  return (
    <svg
      className="level-chart"
      viewBox={`0 0 ${LABEL_W + BAR_W + TEXT_W} ${height}`}
      width={LABEL_W + BAR_W + TEXT_W}
      height={height}
      role="img"
      aria-label={rows.map((row) => `${row.name}: ${percent(row.line.accuracy)}`).join(', ')}
    >
      {rows.map((row, index) => {
        const y = index * ROW
        const share = row.line.accuracy ?? 0
        return (
          <g key={row.name} className={row.name === 'All' ? 'level-row all' : 'level-row'} data-level={row.name}>
            <text x={0} y={y + ROW / 2} dominantBaseline="middle" className="level-name">
              {row.name}
            </text>
            <rect x={LABEL_W} y={y + 6} width={BAR_W} height={ROW - 12} rx={4} className="level-track" />
            <rect
              x={LABEL_W}
              y={y + 6}
              width={Math.round(BAR_W * share)}
              height={ROW - 12}
              rx={4}
              className="level-bar"
            />
            <text x={LABEL_W + BAR_W + 8} y={y + ROW / 2} dominantBaseline="middle" className="level-value">
              {`${percent(row.line.accuracy)} (${row.line.correct}/${row.line.scored})`}
            </text>
          </g>
        )
      })}
    </svg>
  )
}
