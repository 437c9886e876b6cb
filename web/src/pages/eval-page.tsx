import { type FormEvent, useEffect, useState } from 'react'
import { AppHeader } from '../components/app-header.js'
import { ErrorNotice } from '../components/error-notice.js'
import { LevelChart, percent } from '../components/level-chart.js'
import { ModelPicker } from '../components/model-picker.js'
import { useEvalRuns } from '../hooks/use-eval-runs.js'
import { ApiError, evalApi, serverApi } from '../lib/api.js'
import type { EvalRunDetail, EvalRunInfo, EvalRunList, EvalTaskRow, ModelCatalog } from '../lib/api-types.js'
import { localDate } from '../lib/format.js'
import { navigate } from '../routes.js'

/**
 * `/eval` and `/eval/<run>`: start a GAIA run, watch it live, read its
 * accuracy per level and open any task's session replay. Runs started with
 * `berth eval gaia` on the same data root are listed too.
 */
export function EvalPage(props: { runName: string | null; drawerOpen: boolean; onMenu: () => void }) {
  const runs = useEvalRuns(props.runName)
  return (
    <div className="page">
      <AppHeader title="GAIA benchmark" drawerOpen={props.drawerOpen} onMenu={props.onMenu} />
      <main id="main" className="eval-page">
        <StartForm dataset={runs.list?.dataset ?? null} onStarted={runs.refresh} />
        {runs.error ? <ErrorNotice code={runs.error.code} message={runs.error.message} onRetry={runs.refresh} /> : null}
        <RunList list={runs.list} selected={props.runName} />
        {props.runName !== null && runs.detail !== null ? (
          <RunDetail detail={runs.detail} onChanged={runs.refresh} />
        ) : null}
      </main>
    </div>
  )
}

function StartForm(props: { dataset: EvalRunList['dataset'] | null; onStarted: () => void }) {
  const [catalog, setCatalog] = useState<ModelCatalog | null>(null)
  const [prefix, setPrefix] = useState('ui')
  const [split, setSplit] = useState<'validation' | 'test'>('validation')
  const [tasks, setTasks] = useState(5)
  const [concurrency, setConcurrency] = useState(2)
  const [model, setModel] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)

  useEffect(() => {
    serverApi.models().then(setCatalog, () => setCatalog(null))
  }, [])

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const started = await evalApi.start({
        set_to_run: split,
        run_name: prefix.trim(),
        max_tasks: tasks,
        concurrency,
        ...(model === null ? {} : { model_id: model }),
      })
      navigate(`/eval/${encodeURIComponent(started.run_name)}`)
      props.onStarted()
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'NETWORK', String(caught)))
    } finally {
      setBusy(false)
    }
  }

  const { dataset } = props
  const missing = dataset !== null && !dataset.splits[split]
  return (
    <section className="eval-card" aria-labelledby="eval-start-title">
      <h2 id="eval-start-title">Start a run</h2>
      <form className="eval-form" onSubmit={submit}>
        <label>
          Name
          <input
            type="text"
            value={prefix}
            pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
            maxLength={90}
            required
            onChange={(e) => setPrefix(e.target.value)}
          />
        </label>
        <label>
          Split
          <select value={split} onChange={(e) => setSplit(e.target.value as 'validation' | 'test')}>
            <option value="validation">validation</option>
            <option value="test">test (answers hidden)</option>
          </select>
        </label>
        <label>
          Tasks
          <input
            type="number"
            min={1}
            max={10000}
            value={tasks}
            required
            onChange={(e) => setTasks(Number(e.target.value))}
          />
        </label>
        <label>
          At once
          <input
            type="number"
            min={1}
            max={16}
            value={concurrency}
            required
            onChange={(e) => setConcurrency(Number(e.target.value))}
          />
        </label>
        {/* The picker labels itself ("Model"); this caption only mirrors the other fields. */}
        <div className="eval-field">
          <span aria-hidden="true">Model</span>
          <ModelPicker catalog={catalog} value={model} onChange={setModel} />
        </div>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? <span className="spinner" aria-hidden="true" /> : null}
          Start run
        </button>
      </form>
      {dataset ? (
        <p className="eval-hint">
          Dataset: <code>{dataset.dir}</code>
          {missing
            ? dataset.downloadable
              ? ` has no ${split} split yet; the first run downloads it (HF_TOKEN).`
              : ` has no ${split} split: set BERTH_GAIA_DATA, or fetch it with berth eval gaia --from-hub.`
            : ''}
        </p>
      ) : null}
      {error ? <ErrorNotice code={error.code} message={error.message} /> : null}
    </section>
  )
}

function RunList(props: { list: EvalRunList | null; selected: string | null }) {
  if (props.list === null) return <p className="eval-hint">Loading runs…</p>
  if (props.list.runs.length === 0) return <p className="eval-hint">No runs yet.</p>
  return (
    <section className="eval-card" aria-labelledby="eval-runs-title">
      <h2 id="eval-runs-title">Runs</h2>
      <div className="table-scroll">
        <table className="eval-table eval-runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Accuracy</th>
              <th>Model</th>
              <th>Last activity</th>
            </tr>
          </thead>
          <tbody>
            {props.list.runs.map((run) => (
              <tr
                key={run.run_name}
                data-run={run.run_name}
                aria-current={run.run_name === props.selected ? 'true' : undefined}
                className={run.run_name === props.selected ? 'selected' : undefined}
              >
                <td>
                  <a
                    href={`/eval/${encodeURIComponent(run.run_name)}`}
                    onClick={(e) => {
                      e.preventDefault()
                      navigate(`/eval/${encodeURIComponent(run.run_name)}`)
                    }}
                  >
                    {run.run_name}
                  </a>
                </td>
                <td>
                  <StatusBadge run={run} />
                </td>
                <td>{progress(run)}</td>
                <td>{percent(run.summary.accuracy)}</td>
                <td className="eval-model">{run.summary.model ?? ''}</td>
                <td>{localDate(run.updated_at ?? run.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function StatusBadge(props: { run: EvalRunInfo }) {
  const { status, runner } = props.run
  const title = runner === 'other' ? 'Run by another berth process (berth eval gaia)' : undefined
  return (
    <span className={`badge eval-status ${status}`} data-status={status} title={title}>
      {status === 'running' ? <span className="spinner" aria-hidden="true" /> : null} {status}
      {runner === 'other' ? ' (CLI)' : ''}
    </span>
  )
}

/** `3/5 done`: finished tasks of the planned ones (or of the tasks seen, for a run not started here). */
function progress(run: EvalRunInfo): string {
  const total = run.planned ?? run.summary.tasks
  return `${run.summary.finished}/${total} done`
}

function RunDetail(props: { detail: EvalRunDetail; onChanged: () => void }) {
  const { run, tasks } = props.detail
  const [stopping, setStopping] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const running = tasks.filter((task) => task.status === 'running').length

  const stop = async () => {
    setStopping(true)
    setError(null)
    try {
      await evalApi.stop(run.run_name)
      props.onChanged()
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'NETWORK', String(caught)))
    } finally {
      setStopping(false)
    }
  }

  return (
    <section className="eval-card" aria-labelledby="eval-run-title" data-run-detail={run.run_name}>
      <div className="eval-run-head">
        <h2 id="eval-run-title">{run.run_name}</h2>
        <StatusBadge run={run} />
        <span className="eval-hint">
          {[run.summary.split, run.summary.model].filter(Boolean).join(' · ')}
          {` · ${progress(run)}`}
          {running > 0 ? ` · ${running} running` : ''}
          {run.summary.errors > 0 ? ` · ${run.summary.errors} failed` : ''}
        </span>
        <span className="spacer" />
        {run.runner === 'server' ? (
          <button type="button" className="button danger small" disabled={stopping} onClick={stop}>
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        ) : null}
      </div>
      {run.error ? <ErrorNotice code={run.error.code} message={run.error.message} /> : null}
      {error ? <ErrorNotice code={error.code} message={error.message} /> : null}
      <LevelChart overall={run.summary} levels={run.summary.levels} />
      <div className="table-scroll">
        <table className="eval-table eval-tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Level</th>
              <th>Question</th>
              <th>Prediction</th>
              <th>Answer</th>
              <th>Result</th>
              <th>Time</th>
              <th>
                <span className="visually-hidden">Replay</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((task) => (
              <TaskRow key={task.task_id} runName={run.run_name} task={task} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

function TaskRow(props: { runName: string; task: EvalTaskRow }) {
  const { task } = props
  const [error, setError] = useState<string | null>(null)
  const open = async () => {
    setError(null)
    try {
      const { path } = await evalApi.replay(props.runName, task.session_id)
      navigate(path)
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught))
    }
  }
  return (
    <tr data-task={task.task_id} data-status={task.status}>
      <td className="eval-id" title={task.task_id}>
        {task.task_id}
      </td>
      <td>{task.level}</td>
      <td className="eval-question" title={task.question}>
        {task.question}
      </td>
      <td className="eval-answer">{task.prediction ?? ''}</td>
      <td className="eval-answer">{task.true_answer ?? '?'}</td>
      <td>
        <Verdict task={task} />
        {error ? <div className="row-error">{error}</div> : null}
      </td>
      <td>{task.duration_ms === null ? '' : `${(task.duration_ms / 1000).toFixed(1)} s`}</td>
      <td>
        <button type="button" className="button small" onClick={open} aria-label={`Replay task ${task.task_id}`}>
          Replay
        </button>
      </td>
    </tr>
  )
}

function Verdict(props: { task: EvalTaskRow }) {
  const { task } = props
  if (task.status === 'running') {
    return (
      <span className="verdict running">
        <span className="spinner" aria-hidden="true" /> running
      </span>
    )
  }
  if (task.status === 'error') {
    return (
      <span className="verdict bad" title={task.error?.message}>
        error {task.error?.code ?? ''}
      </span>
    )
  }
  if (task.status === 'interrupted') return <span className="verdict muted">interrupted</span>
  if (task.correct === null) return <span className="verdict muted">answered</span>
  return task.correct ? <span className="verdict ok">✓ correct</span> : <span className="verdict bad">✗ wrong</span>
}
