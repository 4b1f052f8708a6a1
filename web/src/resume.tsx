// The resume page: paste or upload a resume, download the uploaded file, and the category
// assignment's state (pending, the category and how it was chosen, the fallback's reason).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, download, gql, gqlUpload } from './api';
import { ResumeQuery, SaveResume, UploadResume, type Assignment } from './ops';
import type { ResultOf } from './graphql';
import { ErrorBanner, Notice, PageTitle, TextArea, fieldError, fmtDateTime, useAction, useApp, useId } from './ui';

const METHODS: Record<string, string> = {
  KEYWORD: "your resume's words matched the category's keywords",
  LLM_EXISTING: 'the AI picked it from the existing categories',
  LLM_NEW: 'the AI proposed it as a new category',
  TITLE: "it is the role your resume's title names",
  FALLBACK: 'a fallback: no role could be read from your resume, so the closest keyword match (or the default category) was used',
};

/** Where the category assignment stands, in words. */
export function AssignmentState({ a }: { a: Assignment }) {
  switch (a.status) {
    case 'NONE':
      return (
        <div class="assignment" role="status">
          <p>
            <strong>No resume yet.</strong> Paste or upload your resume and we will pick the search category that fits it.
          </p>
        </div>
      );
    case 'PENDING':
      return (
        <div class="assignment assignment-pending" role="status">
          <span class="spinner" aria-hidden="true" />
          <p>Assigning your category…</p>
        </div>
      );
    case 'FAILED':
      return (
        <div class="assignment assignment-failed" role="status">
          <p>
            <strong>We could not choose a category for your resume.</strong>
            {a.error ? ` ${a.error}` : ''} Saving your resume again tries again.
          </p>
        </div>
      );
    default:
      return (
        <div class="assignment assignment-done" role="status">
          <p>
            Your category: <strong class="category-name">{a.category?.name ?? 'unknown'}</strong>
          </p>
          {a.method && <p class="muted">Chosen because {METHODS[a.method] ?? a.method}.</p>}
          {a.error && <p class="muted">Reason: {a.error}</p>}
          {a.assignedAt && <p class="muted">Assigned {fmtDateTime(a.assignedAt)}.</p>}
        </div>
      );
  }
}

type ResumeT = NonNullable<NonNullable<ResultOf<typeof ResumeQuery>['me']>['resume']>;

export function ResumePage() {
  const { me, setMe } = useApp();
  const [resume, setResume] = useState<ResumeT | null | undefined>(undefined);
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const load = useAction();
  const paste = useAction();
  const upload = useAction();
  const dl = useAction();
  const fileId = useId('file');
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    load.run(async () => {
      const d = await gql(ResumeQuery, {});
      const r = d.me?.resume ?? null;
      setResume(r);
      if (r && r.source === 'TEXT') setText(r.text);
    });
  }, []);

  async function savePasted(e: Event) {
    e.preventDefault();
    setDone(null);
    const u = await paste.run(async () => (await gql(SaveResume, { text })).saveResume);
    if (u) {
      setMe(u);
      setDone('Resume saved.');
      const d = await gql(ResumeQuery, {}).catch(() => null);
      if (d?.me) setResume(d.me.resume ?? null);
    }
  }

  async function uploadFile(e: Event) {
    e.preventDefault();
    setDone(null);
    if (!file) {
      upload.setError(new ApiError('Choose a file first.', 'VALIDATION', 'file'));
      return;
    }
    const u = await upload.run(async () => (await gqlUpload(UploadResume, file)).uploadResume);
    if (u) {
      const { resume: r, ...rest } = u;
      setMe(rest);
      setResume(r ?? null);
      setDone(`“${file.name}” uploaded and read.`);
      setFile(null);
      if (fileInput.current) fileInput.current.value = '';
    }
  }

  const fileErr = fieldError(upload.error, 'file');
  const textErr = fieldError(paste.error, 'text');
  return (
    <section>
      <PageTitle>Your resume</PageTitle>
      <AssignmentState a={me.categoryAssignment} />
      {done && <Notice>{done}</Notice>}
      {me.categoryAssignment.status === 'ASSIGNED' && (
        <p>
          <a href="#/matches">See your matches</a>
        </p>
      )}
      <ErrorBanner error={load.error} />
      {resume && (
        <div class="card resume-info">
          <h2>What we have</h2>
          <p>
            {resume.fileName ? (
              <>
                From the file <strong>{resume.fileName}</strong> ({resume.source}
                {resume.pages ? `, ${resume.pages} page${resume.pages === 1 ? '' : 's'}` : ''}
                {resume.sizeBytes ? `, ${Math.ceil(resume.sizeBytes / 1024)} KB` : ''})
              </>
            ) : (
              'Pasted text'
            )}
            , saved {fmtDateTime(resume.updatedAt)}.
          </p>
          {resume.warnings.length > 0 && (
            <ul class="warnings">
              {resume.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          {resume.fileName && (
            <button type="button" class="secondary" disabled={dl.busy} onClick={() => dl.run(() => download('/files/resume', resume.fileName ?? 'resume'))}>
              Download the uploaded file
            </button>
          )}
          <ErrorBanner error={dl.error} />
          {resume.source !== 'TEXT' && (
            <details>
              <summary>The text we read from it</summary>
              <pre class="resume-text">{resume.text}</pre>
            </details>
          )}
        </div>
      )}

      <div class="grid-2">
        <form class="card" onSubmit={uploadFile} noValidate>
          <h2>Upload a file</h2>
          <div class={`field${fileErr ? ' field-invalid' : ''}`}>
            <label for={fileId}>Resume file</label>
            <p class="hint" id={`${fileId}-hint`}>
              PDF (with a text layer), Word (DOCX), Markdown or plain text.
            </p>
            <input
              ref={fileInput}
              id={fileId}
              type="file"
              accept=".pdf,.docx,.md,.markdown,.txt,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/markdown,text/plain"
              onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)}
              aria-invalid={fileErr ? 'true' : undefined}
              aria-describedby={`${fileId}-hint${fileErr ? ` ${fileId}-error` : ''}`}
            />
            {fileErr && (
              <p class="field-error" id={`${fileId}-error`}>
                {fileErr}
              </p>
            )}
          </div>
          <ErrorBanner error={upload.error} placed={['file']} />
          <button type="submit" disabled={upload.busy}>
            Upload resume
          </button>
          {upload.busy && <p role="status">Uploading and reading your file…</p>}
        </form>

        <form class="card" onSubmit={savePasted} noValidate>
          <h2>Or paste it</h2>
          <TextArea label="Resume" rows={12} value={text} onValue={setText} error={textErr} hint="Plain text, at least 50 characters." />
          <ErrorBanner error={paste.error} placed={['text']} />
          <button type="submit" disabled={paste.busy}>
            Save resume
          </button>
        </form>
      </div>
    </section>
  );
}
