// The admin pages: categories (add, edit, retire, restore), runs (start one, follow it live
// over pipelineRunProgress), source health, LLM usage (tokens per day) and the score histogram.
import { useEffect, useState } from 'preact/hooks';
import { follow, gql, type ApiError } from './api';
import {
  AddCategory, Categories, LlmUsageQuery, PipelineRun, PipelineRuns, RetireCategory, RunPipeline, RunProgress, ScoreDistributionQuery,
  SourceHealthQuery, UpdateCategory, type Category, type Run,
} from './ops';
import type { ResultOf } from './graphql';
import { ErrorBanner, Notice, PageTitle, TextField, fieldError, fmtDateTime, fmtNumber, splitList, useAction, useId } from './ui';

const TABS: [string, string][] = [
  ['categories', 'Categories'],
  ['runs', 'Runs'],
  ['sources', 'Source health'],
  ['usage', 'LLM usage'],
  ['scores', 'Scores'],
];

export function AdminPage({ tab }: { tab: string }) {
  return (
    <section>
      <PageTitle>Admin</PageTitle>
      <nav aria-label="Admin">
        <ul class="tabs">
          {TABS.map(([k, l]) => (
            <li key={k}>
              <a href={`#/admin/${k}`} aria-current={tab === k ? 'page' : undefined}>
                {l}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {tab === 'runs' ? <Runs /> : tab === 'sources' ? <Sources /> : tab === 'usage' ? <Usage /> : tab === 'scores' ? <Scores /> : <CategoriesAdmin />}
    </section>
  );
}

// ---- categories

function CategoriesAdmin() {
  const [cats, setCats] = useState<Category[] | null>(null);
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const [terms, setTerms] = useState('');
  const [keywords, setKeywords] = useState('');
  const [location, setLocation] = useState('');
  const [added, setAdded] = useState<string | null>(null);
  const load = useAction();
  const add = useAction();

  const refresh = () => load.run(async () => setCats((await gql(Categories, {})).searchCategories));
  useEffect(() => {
    refresh();
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    setAdded(null);
    const input = {
      slug: slug.trim(),
      name: name.trim(),
      searchTerms: terms.trim() ? splitList(terms) : null,
      keywords: keywords.trim() ? splitList(keywords) : null,
      location: location.trim() || null,
    };
    const c = await add.run(async () => (await gql(AddCategory, { input })).addSearchCategory);
    if (c) {
      setAdded(`Added “${c.name}”. The next run collects for it.`);
      setSlug('');
      setName('');
      setTerms('');
      setKeywords('');
      setLocation('');
      setCats((cs) => [...(cs ?? []), c].sort((a, b) => a.slug.localeCompare(b.slug)));
    }
  }

  const replace = (c: Category) => setCats((cs) => cs && cs.map((x) => (x.slug === c.slug ? c : x)));
  const slugErr = fieldError(add.error, 'slug') ?? (add.error?.code === 'CONFLICT' ? add.error.message : undefined);
  return (
    <>
      <h2>Search categories</h2>
      <ErrorBanner error={load.error} />
      {cats && (
        <ul class="categories" aria-label="Categories">
          {cats.map((c) => (
            <CategoryRow key={c.slug} c={c} onChange={replace} />
          ))}
        </ul>
      )}
      <form class="card" onSubmit={submit} noValidate>
        <h3>Add a category</h3>
        <div class="row">
          <TextField label="Slug" value={slug} onValue={setSlug} error={slugErr} hint="Lowercase letters, digits and _, e.g. data_engineer." required />
          <TextField label="Name" value={name} onValue={setName} error={fieldError(add.error, 'name')} required />
        </div>
        <TextField label="Search terms" value={terms} onValue={setTerms} error={fieldError(add.error, 'searchTerms')} hint="Comma-separated; empty: the name." />
        <TextField label="Keywords" value={keywords} onValue={setKeywords} error={fieldError(add.error, 'keywords')} hint="Comma-separated; empty: the lowercased name." />
        <TextField label="Location" value={location} onValue={setLocation} error={fieldError(add.error, 'location')} hint="Optional, passed to search sources." />
        {add.error?.code !== 'CONFLICT' && <ErrorBanner error={add.error} placed={['slug', 'name', 'searchTerms', 'keywords', 'location']} />}
        {added && <Notice>{added}</Notice>}
        <button type="submit" disabled={add.busy}>
          Add category
        </button>
      </form>
    </>
  );
}

function CategoryRow({ c, onChange }: { c: Category; onChange(c: Category): void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(c.name);
  const [terms, setTerms] = useState(c.searchTerms.join(', '));
  const [keywords, setKeywords] = useState(c.keywords.join(', '));
  const [location, setLocation] = useState(c.location ?? '');
  const act = useAction();

  async function save(e: Event) {
    e.preventDefault();
    const r = await act.run(async () =>
      (await gql(UpdateCategory, {
        slug: c.slug,
        input: { name: name.trim(), searchTerms: splitList(terms), keywords: splitList(keywords), location: location.trim() },
      })).updateSearchCategory,
    );
    if (r) {
      onChange(r);
      setEditing(false);
    }
  }

  async function toggle() {
    const r = await act.run(async () =>
      c.isActive
        ? (await gql(RetireCategory, { slug: c.slug })).removeSearchCategory
        : (await gql(UpdateCategory, { slug: c.slug, input: { isActive: true } })).updateSearchCategory,
    );
    if (r) onChange(r);
  }

  return (
    <li class={`card category${c.isActive ? '' : ' retired'}`}>
      <div class="category-head">
        <h3>
          {c.name} <code>{c.slug}</code>
        </h3>
        <span class={`badge ${c.isActive ? 'badge-up' : 'badge-disabled'}`}>{c.isActive ? 'Active' : 'Retired'}</span>
        <span class="badge">{c.origin.toLowerCase()}</span>
      </div>
      {!editing ? (
        <>
          <p class="muted">
            Search terms: {c.searchTerms.join(', ') || '—'} · Keywords: {c.keywords.join(', ') || '—'}
            {c.location ? ` · Location: ${c.location}` : ''}
          </p>
          <div class="actions">
            <button type="button" class="secondary" aria-label={`Edit ${c.name}`} onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="secondary" aria-label={`${c.isActive ? 'Retire' : 'Restore'} ${c.name}`} disabled={act.busy} onClick={toggle}>
              {c.isActive ? 'Retire' : 'Restore'}
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={save} noValidate aria-label={`Edit ${c.name}`}>
          <TextField label="Name" value={name} onValue={setName} error={fieldError(act.error, 'name')} />
          <TextField label="Search terms" value={terms} onValue={setTerms} error={fieldError(act.error, 'searchTerms')} hint="Comma-separated." />
          <TextField label="Keywords" value={keywords} onValue={setKeywords} error={fieldError(act.error, 'keywords')} hint="Comma-separated." />
          <TextField label="Location" value={location} onValue={setLocation} error={fieldError(act.error, 'location')} hint="Empty clears it." />
          <div class="actions">
            <button type="submit" disabled={act.busy}>
              Save changes
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <ErrorBanner error={act.error} placed={editing ? ['name', 'searchTerms', 'keywords', 'location'] : []} />
    </li>
  );
}

// ---- runs

const FINAL = new Set(['SUCCEEDED', 'PARTIAL', 'FAILED']);

function Runs() {
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [watched, setWatched] = useState<Run | null>(null);
  const [liveError, setLiveError] = useState<ApiError | null>(null);
  const load = useAction();
  const start = useAction();

  const refresh = () =>
    load.run(async () => {
      const r = (await gql(PipelineRuns, {})).pipelineRuns;
      setRuns(r);
      return r;
    });

  useEffect(() => {
    refresh().then((r) => {
      const active = r?.find((x) => !FINAL.has(x.status));
      if (active) setWatched((w) => w ?? active);
    });
  }, []);

  const watchId = watched && !FINAL.has(watched.status) ? watched.id : null;
  useEffect(() => {
    if (!watchId) return;
    setLiveError(null);
    return follow(
      RunProgress,
      { id: watchId },
      {
        data: (d) => setWatched(d.pipelineRunProgress),
        error: setLiveError,
        done: () => refresh(),
      },
      async () => {
        const d = await gql(PipelineRun, { id: watchId });
        if (d.pipelineRun) setWatched(d.pipelineRun);
        return !d.pipelineRun || FINAL.has(d.pipelineRun.status);
      },
    );
  }, [watchId]);

  async function runNow() {
    const r = await start.run(async () => (await gql(RunPipeline, {})).runPipeline);
    if (r) {
      setWatched(r);
      setRuns((rs) => [r, ...(rs ?? []).filter((x) => x.id !== r.id)]);
    }
  }

  return (
    <>
      <h2>Collector runs</h2>
      <p class="muted">A run fetches every active category from every enabled source, then rescoring follows for every user.</p>
      <button type="button" onClick={runNow} disabled={start.busy}>
        Run pipeline
      </button>
      <ErrorBanner error={start.error} />
      {watched && <RunPanel run={watched} live={!!watchId} />}
      <ErrorBanner error={liveError} />
      <h3>Recent runs</h3>
      <ErrorBanner error={load.error} />
      {runs && runs.length === 0 && <p>No runs yet.</p>}
      {runs && runs.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Recent runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Queued</th>
                <th scope="col">Fetched</th>
                <th scope="col">New</th>
                <th scope="col">Errors</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <button type="button" class="link" aria-label={`Show run ${r.id}`} onClick={() => setWatched(r)}>
                      #{r.id}
                    </button>
                  </td>
                  <td>
                    <span class={`badge badge-run-${r.status.toLowerCase()}`}>{r.status}</span>
                  </td>
                  <td>{r.trigger.toLowerCase()}</td>
                  <td>{fmtDateTime(r.queuedAt)}</td>
                  <td>{fmtNumber(r.listingsFetched)}</td>
                  <td>{fmtNumber(r.listingsInserted)}</td>
                  <td>{r.errors.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function RunPanel({ run, live }: { run: Run; live: boolean }) {
  const pct = run.categoriesTotal > 0 ? Math.round((run.categoriesDone / run.categoriesTotal) * 100) : FINAL.has(run.status) ? 100 : 0;
  const labelId = useId('run');
  return (
    <div class="card run-panel" aria-labelledby={labelId}>
      <h3 id={labelId}>
        Run #{run.id} {live && <span class="live">live</span>}
      </h3>
      <p class="run-status" role="status" aria-live="polite">
        Status: <span class={`badge badge-run-${run.status.toLowerCase()}`}>{run.status}</span>
      </p>
      <div class="progress" role="progressbar" aria-label="Categories collected" aria-valuemin={0} aria-valuemax={run.categoriesTotal || 100} aria-valuenow={run.categoriesTotal ? run.categoriesDone : pct}>
        <span class="fill" style={{ width: `${pct}%` }} />
      </div>
      <p class="muted">
        {run.categoriesDone} of {run.categoriesTotal} categories collected
      </p>
      <dl class="stats">
        <div>
          <dt>Fetched</dt>
          <dd>{fmtNumber(run.listingsFetched)}</dd>
        </div>
        <div>
          <dt>Unique</dt>
          <dd>{fmtNumber(run.listingsUnique)}</dd>
        </div>
        <div>
          <dt>New</dt>
          <dd>{fmtNumber(run.listingsInserted)}</dd>
        </div>
        <div>
          <dt>Users rescored</dt>
          <dd>{fmtNumber(run.usersQueuedForMatching)}</dd>
        </div>
      </dl>
      <p class="muted">
        Queued {fmtDateTime(run.queuedAt)} · started {fmtDateTime(run.startedAt)} · finished {fmtDateTime(run.finishedAt)}
      </p>
      {run.errors.length > 0 && (
        <>
          <h4>Errors ({run.errors.length})</h4>
          <ul class="errors">
            {run.errors.map((e, i) => (
              <li key={i}>
                <strong>{e.source}</strong>
                {e.category ? ` (${e.category})` : ''}: {e.message} <span class="muted">{fmtDateTime(e.at)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

// ---- source health

function Sources() {
  const [rows, setRows] = useState<ResultOf<typeof SourceHealthQuery>['sourceHealth'] | null>(null);
  const load = useAction();
  useEffect(() => {
    load.run(async () => setRows((await gql(SourceHealthQuery, {})).sourceHealth));
  }, []);
  return (
    <>
      <h2>Source health</h2>
      <ErrorBanner error={load.error} />
      {rows && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Job sources</caption>
            <thead>
              <tr>
                <th scope="col">Source</th>
                <th scope="col">State</th>
                <th scope="col">Last success</th>
                <th scope="col">Last error</th>
                <th scope="col">Failed runs in a row</th>
                <th scope="col">Listings last run</th>
                <th scope="col">Next try</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.source}>
                  <th scope="row">{r.source}</th>
                  <td>
                    <span class={`badge badge-${r.state.toLowerCase()}`}>{r.state}</span>
                  </td>
                  <td>{fmtDateTime(r.lastSuccessAt)}</td>
                  <td class="wrap">
                    {r.lastError ? (
                      <>
                        {r.lastError} <span class="muted">({fmtDateTime(r.lastErrorAt)})</span>
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{r.consecutiveFailedRuns}</td>
                  <td>{fmtNumber(r.listingsLastRun)}</td>
                  <td>{r.state === 'DOWN' ? fmtDateTime(r.nextAttemptAt) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

// ---- LLM usage

type Usage = ResultOf<typeof LlmUsageQuery>['llmUsage'];
type Row = Usage['byDay'][number];
const tokens = (r: Row) => r.inputTokens + r.outputTokens + r.cacheReadTokens + r.cacheWriteTokens;

function Usage() {
  const [days, setDays] = useState(30);
  const [u, setU] = useState<Usage | null>(null);
  const load = useAction();
  useEffect(() => {
    load.run(async () => {
      const until = new Date();
      const since = new Date(until.getTime() - days * 86400_000);
      setU((await gql(LlmUsageQuery, { since: since.toISOString(), until: until.toISOString() })).llmUsage);
    });
  }, [days]);

  const cost = (c: number | null | undefined) => (c == null ? '—' : `$${c.toFixed(2)}`);
  return (
    <>
      <h2>LLM usage</h2>
      <div class="actions" role="group" aria-label="Period">
        {[7, 30, 90].map((n) => (
          <button type="button" key={n} class="secondary" aria-pressed={days === n} onClick={() => setDays(n)}>
            Last {n} days
          </button>
        ))}
      </div>
      <ErrorBanner error={load.error} />
      {u && (
        <>
          <dl class="stats">
            <div>
              <dt>Calls</dt>
              <dd>{fmtNumber(u.calls)}</dd>
            </div>
            <div>
              <dt>Input tokens</dt>
              <dd>{fmtNumber(u.inputTokens)}</dd>
            </div>
            <div>
              <dt>Output tokens</dt>
              <dd>{fmtNumber(u.outputTokens)}</dd>
            </div>
            <div>
              <dt>Cache read / write</dt>
              <dd>
                {fmtNumber(u.cacheReadTokens)} / {fmtNumber(u.cacheWriteTokens)}
              </dd>
            </div>
            <div>
              <dt>Estimated cost</dt>
              <dd>{cost(u.estimatedCostUsd)}</dd>
            </div>
          </dl>
          {u.calls === 0 ? (
            <p class="empty card">No LLM calls in this period (the LLM may be off: assignment, scoring and tailoring then use keywords).</p>
          ) : (
            <>
              <h3>Tokens per day</h3>
              <TokenChart since={u.since} until={u.until} rows={u.byDay} />
              <h3>By purpose</h3>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Purpose</th>
                      <th scope="col">Calls</th>
                      <th scope="col">Input</th>
                      <th scope="col">Output</th>
                      <th scope="col">Cache read</th>
                      <th scope="col">Cache write</th>
                      <th scope="col">Cost</th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.byPurpose.map((r) => (
                      <tr key={r.key}>
                        <th scope="row">{r.key}</th>
                        <td>{fmtNumber(r.calls)}</td>
                        <td>{fmtNumber(r.inputTokens)}</td>
                        <td>{fmtNumber(r.outputTokens)}</td>
                        <td>{fmtNumber(r.cacheReadTokens)}</td>
                        <td>{fmtNumber(r.cacheWriteTokens)}</td>
                        <td>{cost(r.estimatedCostUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </>
  );
}

/** One bar of a [`BarChart`]: its value, the tooltip it shows, and its axis label if any. */
interface Bar {
  key: string;
  value: number;
  tip: string;
  tick?: string;
}

/** A bar chart in SVG with a zero line, the top value on the y axis and labels under the
 * bars that have one; `title` names it for screen readers. */
function BarChart({ title, bars, gap }: { title: string; bars: Bar[]; gap: number }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const W = 640;
  const H = 210;
  const padL = 48;
  const padB = 26;
  const padR = 16;
  const bw = (W - padL - padR) / Math.max(1, bars.length);
  const titleId = useId('chart');
  const y = (v: number) => H - padB - (v / max) * (H - padB - 10);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={titleId}>
      <title id={titleId}>
        {title}; the highest bar: {fmtNumber(max)}
      </title>
      <line class="axis" x1={padL} y1={H - padB} x2={W - padR} y2={H - padB} />
      <line class="axis" x1={padL} y1={10} x2={padL} y2={H - padB} />
      <text class="tick" x={padL - 6} y={14} text-anchor="end">
        {compact(max)}
      </text>
      <text class="tick" x={padL - 6} y={H - padB} text-anchor="end">
        0
      </text>
      {bars.map((b, i) => (
        <g key={b.key}>
          <rect class="bar-rect" x={padL + i * bw + gap} y={y(b.value)} width={Math.max(1, bw - 2 * gap)} height={H - padB - y(b.value)}>
            <title>{b.tip}</title>
          </rect>
          {b.tick !== undefined && (
            <text class="tick" x={padL + i * bw + bw / 2} y={H - 7} text-anchor="middle">
              {b.tick}
            </text>
          )}
        </g>
      ))}
    </svg>
  );
}

function TokenChart({ since, until, rows }: { since: string; until: string; rows: Row[] }) {
  // Every UTC day of the period, days without calls at zero.
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const days: { key: string; total: number; calls: number }[] = [];
  const start = new Date(since.slice(0, 10) + 'T00:00:00Z');
  const end = new Date(until);
  for (let d = start; d <= end && days.length < 400; d = new Date(d.getTime() + 86400_000)) {
    const key = d.toISOString().slice(0, 10);
    const r = byKey.get(key);
    days.push({ key, total: r ? tokens(r) : 0, calls: r?.calls ?? 0 });
  }
  const every = Math.ceil(days.length / 6);
  const bars = days.map((d, i) => ({
    key: d.key,
    value: d.total,
    tip: `${d.key}: ${fmtNumber(d.total)} tokens, ${d.calls} calls`,
    tick: i === 0 || i === days.length - 1 || i % every === 0 ? d.key.slice(5) : undefined,
  }));
  return (
    <figure class="chart">
      <BarChart title={`Tokens per day from ${days[0]?.key} to ${days[days.length - 1]?.key}`} bars={bars} gap={1} />
      <figcaption class="muted">Input, output and cache tokens per UTC day. Hover a bar for its numbers.</figcaption>
      <details>
        <summary>The numbers</summary>
        <ul>
          {rows.map((r) => (
            <li key={r.key}>
              {r.key}: {fmtNumber(tokens(r))} tokens, {r.calls} calls
            </li>
          ))}
        </ul>
      </details>
    </figure>
  );
}

type Distribution = ResultOf<typeof ScoreDistributionQuery>['matchScoreDistribution'];

function Scores() {
  const [d, setD] = useState<Distribution | null>(null);
  const load = useAction();
  useEffect(() => {
    load.run(async () => setD((await gql(ScoreDistributionQuery, {})).matchScoreDistribution));
  }, []);
  return (
    <>
      <h2>Match scores</h2>
      <ErrorBanner error={load.error} />
      {d && d.total === 0 && <p class="empty card">No matches scored yet.</p>}
      {d && d.total > 0 && <ScoreHistogram d={d} />}
    </>
  );
}

function ScoreHistogram({ d }: { d: Distribution }) {
  const bars = d.buckets.map((b) => ({
    key: String(b.from),
    value: b.count,
    tip: `${b.from}–${b.to}: ${fmtNumber(b.count)} matches`,
    tick: String(b.from),
  }));
  return (
    <figure class="chart">
      <BarChart title={`How ${fmtNumber(d.total)} match scores spread, in tenths of the scale`} bars={bars} gap={2} />
      <figcaption class="muted">Every user's matches by score (0–9, 10–19, …, 90–100). Hover a bar for its count.</figcaption>
      <div class="table-wrap">
        <table aria-label="Matches per score bucket">
          <thead>
            <tr>
              <th scope="col">Score</th>
              <th scope="col">Matches</th>
            </tr>
          </thead>
          <tbody>
            {d.buckets.map((b) => (
              <tr key={b.from}>
                <th scope="row">
                  {b.from}–{b.to}
                </th>
                <td>{fmtNumber(b.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

function compact(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(0)}k` : String(n);
}
