// The matches: the filtered, paged list with Save / Applied / Dismiss, a match's detail with
// its full description, and tailored resumes and cover letters (progress live, changes,
// warnings, downloads).
import { useEffect, useRef, useState } from 'preact/hooks';
import { asApiError, download, follow, gql, type ApiError } from './api';
import { DocProgress, MatchedJobs, SetMatchStatus, TailorDocument, TailoredDocument, TailoredDocuments, type Assignment, type Doc, type MatchT } from './ops';
import type { VariablesOf } from './graphql';
import { AssignmentState } from './resume';
import { ErrorBanner, PageTitle, Select, TextField, fieldError, fmtDateTime, fmtSalary, useAction, useApp } from './ui';

type Status = MatchT['status'];
const PAGE_SIZES = ['5', '10', '20', '50'];

/** Matches seen in lists, so that a detail page opens without asking again. */
const seen = new Map<string, MatchT>();

const STATUS_LABEL: Record<Status, string> = { NEW: 'New', SAVED: 'Saved', APPLIED: 'Applied', DISMISSED: 'Dismissed' };

interface Filters {
  minScore: string;
  status: string; // '' = not dismissed, 'ALL', or a MatchStatus
  remote: string; // '', 'yes', 'no'
  sort: 'SCORE_DESC' | 'NEWEST';
}

const DEFAULT_FILTERS: Filters = { minScore: '', status: '', remote: '', sort: 'SCORE_DESC' };

function variables(f: Filters, after: string | null, perPage: number): VariablesOf<typeof MatchedJobs> {
  const min = f.minScore.trim() === '' ? null : Number(f.minScore);
  return {
    first: perPage,
    after,
    minScore: min === null || Number.isNaN(min) ? null : Math.round(min),
    status: f.status === '' || f.status === 'ALL' ? null : (f.status as Status),
    // "All but dismissed" is asked of the server, so pages stay full and the count true.
    excludeStatus: f.status === '' ? ['DISMISSED'] : null,
    sort: f.sort,
    remote: f.remote === '' ? null : f.remote === 'yes',
  };
}

function visibleUnder(f: Filters, s: Status): boolean {
  if (f.status === 'ALL') return true;
  if (f.status === '') return s !== 'DISMISSED';
  return f.status === s;
}

export function MatchesPage() {
  const { me } = useApp();
  const [draft, setDraft] = useState<Filters>(DEFAULT_FILTERS);
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState(0);
  const [perPage, setPerPage] = useState(20);
  const [items, setItems] = useState<MatchT[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<string | null>(null);
  const [assignment, setAssignment] = useState<Assignment>(me.categoryAssignment);
  const [notice, setNotice] = useState<{ text: string; undo?: () => void } | null>(null);
  const [reload, setReload] = useState(0);
  const { busy, error, run } = useAction();
  const emptyPolls = useRef(0);

  useEffect(() => {
    let cancelled = false;
    run(async () => {
      const d = await gql(MatchedJobs, variables(filters, cursors[page], perPage));
      if (cancelled) return;
      const m = d.matchedJobs;
      const list = m.edges.map((e) => e.node);
      list.forEach((n) => seen.set(n.job.id, n));
      setItems(list);
      setTotal(m.totalCount);
      setNext(m.pageInfo.hasNextPage ? m.pageInfo.endCursor ?? null : null);
      setAssignment(m.categoryAssignment);
    });
    return () => {
      cancelled = true;
    };
  }, [filters, page, cursors, perPage, reload]);

  // The assignment (and then scoring) runs in the background: while nothing is there yet,
  // look again every few seconds for a while.
  const nothingYet = items !== null && items.length === 0 && page === 0 && filters === DEFAULT_FILTERS;
  useEffect(() => {
    if (!nothingYet || assignment.status === 'NONE' || assignment.status === 'FAILED') return;
    if (emptyPolls.current > 60) return;
    const t = setTimeout(() => {
      emptyPolls.current++;
      setReload((r) => r + 1);
    }, assignment.status === 'PENDING' ? 1000 : 3000);
    return () => clearTimeout(t);
  }, [nothingYet, assignment.status, reload]);

  useEffect(() => {
    if (me.categoryAssignment.status !== assignment.status && me.categoryAssignment.status !== 'PENDING') setReload((r) => r + 1);
  }, [me.categoryAssignment.status]);

  function apply(f: Filters) {
    setFilters(f);
    setCursors([null]);
    setPage(0);
    setNotice(null);
  }

  function onChanged(prev: MatchT, updated: MatchT) {
    seen.set(updated.job.id, updated);
    if (visibleUnder(filters, updated.status)) {
      setItems((xs) => xs && xs.map((x) => (x.job.id === updated.job.id ? updated : x)));
      setNotice(null);
    } else {
      setItems((xs) => xs && xs.filter((x) => x.job.id !== updated.job.id));
      setNotice({
        text: `“${updated.job.title}” marked ${STATUS_LABEL[updated.status].toLowerCase()}${updated.status === 'DISMISSED' ? ' and hidden' : ''}.`,
        undo: async () => {
          try {
            await gql(SetMatchStatus, { jobListingId: prev.job.id, status: prev.status });
            setNotice(null);
            setReload((r) => r + 1);
          } catch (e) {
            setNotice({ text: asApiError(e).message });
          }
        },
      });
    }
  }

  const minErr = fieldError(error, 'minScore');
  const filtered = filters !== DEFAULT_FILTERS;
  return (
    <section>
      <PageTitle>Your matches</PageTitle>
      {assignment.status !== 'ASSIGNED' ? <AssignmentState a={assignment} /> : (
        <p class="muted">
          Category: <strong class="category-name">{assignment.category?.name}</strong> · <a href="#/resume">change your resume</a>
        </p>
      )}
      {assignment.status === 'NONE' && (
        <p>
          <a class="button" href="#/resume">
            Add your resume
          </a>
        </p>
      )}

      <form
        class="filters card"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply({ ...draft });
        }}
      >
        <TextField
          label="Minimum score"
          type="number"
          inputMode="numeric"
          min={0}
          max={100}
          value={draft.minScore}
          onValue={(v) => setDraft({ ...draft, minScore: v })}
          error={minErr}
        />
        <Select
          label="Status"
          value={draft.status}
          onValue={(v) => {
            const f = { ...draft, status: v };
            setDraft(f);
            apply(f);
          }}
          options={[
            ['', 'All but dismissed'],
            ['NEW', 'New'],
            ['SAVED', 'Saved'],
            ['APPLIED', 'Applied'],
            ['DISMISSED', 'Dismissed'],
            ['ALL', 'All, dismissed too'],
          ]}
        />
        <Select
          label="Remote"
          value={draft.remote}
          onValue={(v) => {
            const f = { ...draft, remote: v };
            setDraft(f);
            apply(f);
          }}
          options={[
            ['', 'Any'],
            ['yes', 'Remote only'],
            ['no', 'Not remote'],
          ]}
        />
        <Select
          label="Sort by"
          value={draft.sort}
          onValue={(v) => {
            const f = { ...draft, sort: v as Filters['sort'] };
            setDraft(f);
            apply(f);
          }}
          options={[
            ['SCORE_DESC', 'Best score first'],
            ['NEWEST', 'Newest first'],
          ]}
        />
        <Select
          label="Per page"
          value={String(perPage)}
          onValue={(v) => {
            setPerPage(Number(v));
            setCursors([null]);
            setPage(0);
          }}
          options={PAGE_SIZES.map((n) => [n, n])}
        />
        <div class="filter-actions">
          <button type="submit">Apply filters</button>
          {filtered && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setDraft(DEFAULT_FILTERS);
                apply(DEFAULT_FILTERS);
              }}
            >
              Clear filters
            </button>
          )}
        </div>
      </form>

      <ErrorBanner error={error} placed={['minScore']} />
      {notice && (
        <div class="banner banner-ok" role="status">
          {notice.text}{' '}
          {notice.undo && (
            <button type="button" class="link" onClick={notice.undo}>
              Undo
            </button>
          )}
        </div>
      )}

      <div aria-live="polite" class="count">
        {items && items.length > 0 && (
          <p>
            {total} match{total === 1 ? '' : 'es'}
            {filtered ? ' for these filters' : ''} · page {page + 1} of {Math.max(1, Math.ceil(total / perPage))}
          </p>
        )}
      </div>

      {items === null && busy && <p role="status">Loading your matches…</p>}
      {items && items.length === 0 && !busy && !error && (
        <div class="empty card">
          {filtered ? (
            <p>No matches for these filters. Try a lower minimum score or another status.</p>
          ) : assignment.status === 'NONE' ? (
            <p>No matches yet: add your resume first.</p>
          ) : (
            <p>
              No matches yet. We score new listings for you after your category is chosen and after each collector run; this page
              looks again on its own.
            </p>
          )}
        </div>
      )}
      {items && items.length > 0 && (
        <ul class="matches" aria-label="Matches" aria-busy={busy ? 'true' : undefined}>
          {items.map((m) => (
            <MatchItem key={m.job.id} match={m} onChanged={onChanged} />
          ))}
        </ul>
      )}

      {(page > 0 || next) && (
        <nav class="pager" aria-label="Pages">
          <button type="button" class="secondary" disabled={page === 0 || busy} onClick={() => setPage(page - 1)}>
            Previous page
          </button>
          <span>Page {page + 1}</span>
          <button
            type="button"
            class="secondary"
            disabled={!next || busy}
            onClick={() => {
              const cs = cursors.slice(0, page + 1);
              cs.push(next);
              setCursors(cs);
              setPage(page + 1);
              window.scrollTo(0, 0);
            }}
          >
            Next page
          </button>
        </nav>
      )}
    </section>
  );
}

function scoreBand(score: number): string {
  return score >= 75 ? 'high' : score >= 50 ? 'mid' : 'low';
}

export function Score({ score }: { score: number }) {
  return (
    <div class={`score score-${scoreBand(score)}`}>
      <span class="score-num">
        <span class="sr-only">Score </span>
        {score}
        <span class="score-of"> / 100</span>
      </span>
      <span class="bar" aria-hidden="true">
        <span class="fill" style={{ width: `${Math.max(0, Math.min(100, score))}%` }} />
      </span>
    </div>
  );
}

function Skills({ matched, missing }: { matched: string[]; missing: string[] }) {
  if (!matched.length && !missing.length) return null;
  return (
    <div class="skills">
      {matched.length > 0 && (
        <div>
          <span class="skills-label">Matched skills:</span>
          <ul class="chips">
            {matched.map((s) => (
              <li key={s} class="chip chip-ok">
                {s}
              </li>
            ))}
          </ul>
        </div>
      )}
      {missing.length > 0 && (
        <div>
          <span class="skills-label">Missing skills:</span>
          <ul class="chips">
            {missing.map((s) => (
              <li key={s} class="chip chip-miss">
                {s}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Postings({ m }: { m: MatchT }) {
  const posts = m.job.postings.length ? m.job.postings : [{ source: m.job.source, jobUrl: m.job.jobUrl, jobUrlDirect: m.job.jobUrlDirect }];
  return (
    <p class="postings">
      <span class="skills-label">Apply:</span>{' '}
      {posts.map((p, i) => (
        <span key={p.jobUrl}>
          {i > 0 && ' · '}
          <a href={p.jobUrl} target="_blank" rel="noopener noreferrer">
            on {p.source}
            <span class="sr-only"> (opens in a new tab)</span>
          </a>
          {p.jobUrlDirect && (
            <>
              {' · '}
              <a href={p.jobUrlDirect} target="_blank" rel="noopener noreferrer">
                employer's page<span class="sr-only"> (opens in a new tab)</span>
              </a>
            </>
          )}
        </span>
      ))}
    </p>
  );
}

function Meta({ m }: { m: MatchT }) {
  const salary = fmtSalary(m.job.salary);
  const parts = [m.job.company, m.job.location, m.job.isRemote ? 'Remote' : null, m.job.jobType, salary].filter(Boolean);
  return <p class="meta">{parts.join(' · ')}</p>;
}

function StatusActions({ m, onChanged }: { m: MatchT; onChanged(prev: MatchT, updated: MatchT): void }) {
  const { busy, error, run } = useAction();
  async function set(target: Status) {
    const status = m.status === target ? 'NEW' : target;
    const r = await run(async () => (await gql(SetMatchStatus, { jobListingId: m.job.id, status })).setMatchStatus);
    if (r) onChanged(m, r);
  }
  return (
    <div class="actions-wrap">
      <p class="status">
        Status: <span class={`badge badge-${m.status.toLowerCase()}`}>{STATUS_LABEL[m.status]}</span>
      </p>
      <div class="actions">
        <button type="button" class="secondary" aria-pressed={m.status === 'SAVED'} disabled={busy} onClick={() => set('SAVED')}>
          Save
        </button>
        <button type="button" class="secondary" aria-pressed={m.status === 'APPLIED'} disabled={busy} onClick={() => set('APPLIED')}>
          Applied
        </button>
        <button type="button" class="secondary" aria-pressed={m.status === 'DISMISSED'} disabled={busy} onClick={() => set('DISMISSED')}>
          Dismiss
        </button>
      </div>
      <ErrorBanner error={error} />
    </div>
  );
}

function MatchItem({ match: m, onChanged }: { match: MatchT; onChanged(prev: MatchT, updated: MatchT): void }) {
  return (
    <li class="match card" data-score={m.score} data-status={m.status}>
      <Score score={m.score} />
      <div class="match-body">
        <h2 class="match-title">
          <a href={`#/matches/${encodeURIComponent(m.job.id)}`}>{m.job.title}</a>
        </h2>
        <Meta m={m} />
        <p class="reason">{m.reason}</p>
        <Skills matched={m.matchedSkills} missing={m.missingSkills} />
        <Postings m={m} />
        {m.job.closedAt && <p class="muted">Closed {fmtDateTime(m.job.closedAt)}: the board no longer lists it.</p>}
        <StatusActions m={m} onChanged={onChanged} />
      </div>
    </li>
  );
}

// ---- detail

export function MatchDetailPage({ jobId }: { jobId: string }) {
  const [m, setM] = useState<MatchT | null | undefined>(seen.get(jobId));
  const { error, run } = useAction();

  useEffect(() => {
    if (seen.has(jobId)) {
      setM(seen.get(jobId));
      return;
    }
    // Opened directly: look for it among the matches, saved and applied ones first.
    run(async () => {
      for (const status of ['SAVED', 'APPLIED', null, 'DISMISSED'] as (Status | null)[]) {
        const d = await gql(MatchedJobs, { first: 50, status, sort: 'SCORE_DESC', includeClosed: true });
        const hit = d.matchedJobs.edges.find((e) => e.node.job.id === jobId);
        if (hit) {
          seen.set(jobId, hit.node);
          setM(hit.node);
          return;
        }
      }
      setM(null);
    });
  }, [jobId]);

  if (m === undefined) {
    return (
      <section>
        <PageTitle>Match</PageTitle>
        <ErrorBanner error={error} />
        {!error && <p role="status">Loading…</p>}
      </section>
    );
  }
  if (m === null) {
    return (
      <section>
        <PageTitle>Match not found</PageTitle>
        <p>
          This listing is not among your matches (any more). <a href="#/matches">Back to your matches</a>
        </p>
      </section>
    );
  }
  return (
    <article class="detail">
      <p>
        <a href="#/matches">← Back to your matches</a>
      </p>
      <PageTitle>{m.job.title}</PageTitle>
      <Meta m={m} />
      <div class="card">
        <Score score={m.score} />
        <p class="reason">{m.reason}</p>
        <p class="muted">
          Scored {m.method === 'LLM' ? 'by the AI' : 'by keywords'} {fmtDateTime(m.scoredAt)}
          {m.job.datePosted ? ` · posted ${m.job.datePosted}` : ''}
        </p>
        <Skills matched={m.matchedSkills} missing={m.missingSkills} />
        <Postings m={m} />
        <StatusActions
          m={m}
          onChanged={(_, u) => {
            seen.set(u.job.id, u);
            setM(u);
          }}
        />
      </div>
      <Documents jobId={m.job.id} />
      <section class="card">
        <h2>Description</h2>
        {m.job.description ? <div class="description">{m.job.description}</div> : <p class="muted">The board gave no description.</p>}
      </section>
    </article>
  );
}

// ---- tailored documents

function Documents({ jobId }: { jobId: string }) {
  const [docs, setDocs] = useState<Doc[]>([]);
  const load = useAction();
  const ask = useAction();

  useEffect(() => {
    load.run(async () => {
      const d = await gql(TailoredDocuments, { jobListingId: jobId });
      // The newest of each kind.
      const byKind = new Map<string, Doc>();
      d.tailoredDocuments.forEach((x) => byKind.has(x.kind) || byKind.set(x.kind, x));
      setDocs([...byKind.values()]);
    });
  }, [jobId]);

  function put(doc: Doc) {
    setDocs((ds) => [doc, ...ds.filter((d) => d.kind !== doc.kind)]);
  }

  async function tailor(kind: 'RESUME' | 'COVER_LETTER') {
    const d = await ask.run(async () => (await gql(TailorDocument, { jobListingId: jobId, kind })).tailorDocument);
    if (d) put(d);
  }

  const order = (k: string) => (k === 'RESUME' ? 0 : 1);
  return (
    <section class="card documents">
      <h2>Tailored documents</h2>
      <p class="muted">A resume rewritten for this listing from your own resume (nothing invented), or a cover letter.</p>
      <div class="actions">
        <button type="button" disabled={ask.busy} onClick={() => tailor('RESUME')}>
          Tailor resume
        </button>
        <button type="button" disabled={ask.busy} onClick={() => tailor('COVER_LETTER')}>
          Cover letter
        </button>
      </div>
      <ErrorBanner error={ask.error} />
      <ErrorBanner error={load.error} />
      {[...docs]
        .sort((a, b) => order(a.kind) - order(b.kind))
        .map((d) => (
          <DocumentView key={d.id} doc={d} onChange={put} />
        ))}
    </section>
  );
}

function DocumentView({ doc, onChange }: { doc: Doc; onChange(d: Doc): void }) {
  const [liveError, setLiveError] = useState<ApiError | null>(null);
  const dl = useAction();
  const name = doc.kind === 'RESUME' ? 'Tailored resume' : 'Cover letter';

  useEffect(() => {
    if (doc.status !== 'PENDING') return;
    return follow(
      DocProgress,
      { id: doc.id },
      {
        data: (d) => onChange(d.tailoredDocumentProgress),
        error: setLiveError,
        done: () => {},
      },
      async () => {
        const d = await gql(TailoredDocument, { id: doc.id });
        if (d.tailoredDocument) onChange(d.tailoredDocument);
        return !d.tailoredDocument || d.tailoredDocument.status !== 'PENDING';
      },
    );
  }, [doc.id, doc.status === 'PENDING']);

  const base = `${doc.kind === 'RESUME' ? 'resume' : 'cover-letter'}-${doc.job.company}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return (
    <div class="doc" aria-labelledby={`doc-${doc.id}`}>
      <h3 id={`doc-${doc.id}`}>
        {name}{' '}
        <span class={`badge badge-doc-${doc.status.toLowerCase()}`} role="status">
          {doc.status === 'PENDING' ? 'Being made…' : doc.status === 'READY' ? 'Ready' : 'Failed'}
        </span>
      </h3>
      <ErrorBanner error={liveError} />
      {doc.status === 'PENDING' && (
        <p class="assignment-pending">
          <span class="spinner" aria-hidden="true" /> Making your {name.toLowerCase()}… this takes a few seconds.
        </p>
      )}
      {doc.status === 'FAILED' && <p class="banner banner-error">{doc.error ?? 'It could not be made.'} Asking again tries again.</p>}
      {doc.status === 'READY' && (
        <>
          {doc.stale && <p class="banner banner-warn">Made from an earlier resume: ask again for one from your current resume.</p>}
          <p class="muted">
            Made {doc.method === 'LLM' ? 'by the AI, its edits checked against your resume' : 'by the keyword tailoring'} {fmtDateTime(doc.finishedAt ?? doc.createdAt)}.
          </p>
          <div class="actions">
            <button type="button" class="secondary" disabled={dl.busy} onClick={() => dl.run(() => download(`/documents/${doc.id}/pdf`, `${base}.pdf`))}>
              Download PDF
            </button>
            <button type="button" class="secondary" disabled={dl.busy} onClick={() => dl.run(() => download(`/documents/${doc.id}/docx`, `${base}.docx`))}>
              Download DOCX
            </button>
            <button type="button" class="secondary" disabled={dl.busy} onClick={() => dl.run(() => download(`/documents/${doc.id}/md`, `${base}.md`))}>
              Download Markdown
            </button>
          </div>
          <ErrorBanner error={dl.error} />
          {doc.warnings.length > 0 && (
            <div class="banner banner-warn">
              <p>
                <strong>Warnings</strong>
              </p>
              <ul>
                {doc.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          )}
          {doc.changes.length > 0 ? (
            <details open>
              <summary>
                {doc.changes.length} change{doc.changes.length === 1 ? '' : 's'} to review
              </summary>
              <ol class="changes">
                {doc.changes.map((c, i) => (
                  <li key={i}>
                    <p class="change-section">{c.section}</p>
                    {c.before && (
                      <p class="before">
                        <span class="sr-only">Before: </span>
                        <del>{c.before}</del>
                      </p>
                    )}
                    <p class="after">
                      <span class="sr-only">After: </span>
                      <ins>{c.after}</ins>
                    </p>
                    <p class="why">Why: {c.why}</p>
                  </li>
                ))}
              </ol>
            </details>
          ) : (
            <p class="muted">No changes were needed.</p>
          )}
          {doc.suggestions.length > 0 && (
            <p>
              <strong>Worth considering</strong> (asked for by the listing, not shown by your resume, so not claimed):{' '}
              {doc.suggestions.join(', ')}
            </p>
          )}
          {doc.markdown && (
            <details>
              <summary>Preview (Markdown)</summary>
              <pre class="markdown">{doc.markdown}</pre>
            </details>
          )}
        </>
      )}
    </div>
  );
}

