// Preferences and alerts (only changed fields sent; the webhook secret shown once), and the
// account: change password, sign out everywhere, export my data, delete the account.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, auth, download, gql } from './api';
import { ChangePassword, DeleteAccount, PreferencesQuery, RotateWebhookSecret, SignOutEverywhere, UpdatePreferences, type Prefs } from './ops';
import type { VariablesOf } from './graphql';
import { Checkbox, ErrorBanner, Notice, PageTitle, Select, TextArea, TextField, fieldError, splitList, useAction, useApp } from './ui';

const JOB_TYPES: [string, string][] = [
  ['fulltime', 'Full time'],
  ['parttime', 'Part time'],
  ['contract', 'Contract'],
  ['internship', 'Internship'],
  ['temporary', 'Temporary'],
];

interface Draft {
  locations: string;
  remoteOnly: boolean;
  minSalary: string;
  salaryCurrency: string;
  requireSalary: boolean;
  excludeCompanies: string;
  excludeTitleWords: string;
  jobTypes: string[];
  alertMinScore: string;
  alertFrequency: Prefs['alertFrequency'];
  alertEmail: boolean;
  alertWebhookUrl: string;
}

function toDraft(p: Prefs): Draft {
  return {
    locations: p.locations.join('\n'),
    remoteOnly: p.remoteOnly,
    minSalary: p.minSalary == null ? '' : String(p.minSalary),
    salaryCurrency: p.salaryCurrency ?? '',
    requireSalary: p.requireSalary,
    excludeCompanies: p.excludeCompanies.join('\n'),
    excludeTitleWords: p.excludeTitleWords.join('\n'),
    jobTypes: p.jobTypes,
    alertMinScore: p.alertMinScore == null ? '' : String(p.alertMinScore),
    alertFrequency: p.alertFrequency,
    alertEmail: p.alertEmail,
    alertWebhookUrl: p.alertWebhookUrl ?? '',
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Only what changed: a field left out keeps its value. */
function toInput(d: Draft, p: Prefs): VariablesOf<typeof UpdatePreferences>['input'] {
  const input: VariablesOf<typeof UpdatePreferences>['input'] = {};
  const num = (s: string) => (s.trim() === '' ? null : Number(s));
  const locations = splitList(d.locations);
  if (!same(locations, p.locations)) input.locations = locations;
  if (d.remoteOnly !== p.remoteOnly) input.remoteOnly = d.remoteOnly;
  const minSalary = num(d.minSalary);
  const currency = d.salaryCurrency.trim().toUpperCase() || null;
  if (minSalary !== p.minSalary || currency !== (p.salaryCurrency ?? null)) {
    input.minSalary = minSalary;
    input.salaryCurrency = currency;
  }
  if (d.requireSalary !== p.requireSalary) input.requireSalary = d.requireSalary;
  const companies = splitList(d.excludeCompanies);
  if (!same(companies, p.excludeCompanies)) input.excludeCompanies = companies;
  const words = splitList(d.excludeTitleWords);
  if (!same(words, p.excludeTitleWords)) input.excludeTitleWords = words;
  if (!same([...d.jobTypes].sort(), [...p.jobTypes].sort())) input.jobTypes = d.jobTypes;
  const alertMin = num(d.alertMinScore);
  if (alertMin !== (p.alertMinScore ?? null)) input.alertMinScore = alertMin === null ? null : Math.round(alertMin);
  if (d.alertFrequency !== p.alertFrequency) input.alertFrequency = d.alertFrequency;
  if (d.alertEmail !== p.alertEmail) input.alertEmail = d.alertEmail;
  const hook = d.alertWebhookUrl.trim() || null;
  if (hook !== (p.alertWebhookUrl ?? null)) input.alertWebhookUrl = hook;
  return input;
}

export function PreferencesPage() {
  const [prefs, setPrefs] = useState<Prefs | null>(null);
  const [d, setD] = useState<Draft | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const load = useAction();
  const save = useAction();
  const rotate = useAction();

  useEffect(() => {
    load.run(async () => {
      const r = await gql(PreferencesQuery, {});
      if (r.me) {
        setPrefs(r.me.preferences);
        setD(toDraft(r.me.preferences));
      }
    });
  }, []);

  if (!prefs || !d) {
    return (
      <section>
        <PageTitle>Preferences</PageTitle>
        <ErrorBanner error={load.error} />
        {!load.error && <p role="status">Loading…</p>}
      </section>
    );
  }

  const set = (patch: Partial<Draft>) => setD({ ...d, ...patch });
  const err = (f: string) => fieldError(save.error, f);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(null);
    const input = toInput(d!, prefs!);
    if (Object.keys(input).length === 0) {
      setSaved('Nothing changed.');
      return;
    }
    const r = await save.run(async () => (await gql(UpdatePreferences, { input })).updatePreferences);
    if (r) {
      setPrefs(r.preferences);
      setD(toDraft(r.preferences));
      if (r.preferences.alertWebhookSecret) setSecret(r.preferences.alertWebhookSecret);
      setSaved('Preferences saved. Your matches are being updated.');
    }
  }

  return (
    <section>
      <PageTitle>Preferences</PageTitle>
      <p class="lead">What you want of a listing. Empty fields admit everything.</p>
      <form onSubmit={submit} noValidate class="prefs">
        <fieldset class="card">
          <legend>Listings</legend>
          <TextArea
            label="Locations"
            rows={3}
            value={d.locations}
            onValue={(v) => set({ locations: v })}
            error={err('locations')}
            hint="One per line, e.g. Berlin or Germany. “Remote” admits remote listings."
          />
          <Checkbox label="Remote only" checked={d.remoteOnly} onChange={(v) => set({ remoteOnly: v })} />
          <div class="row">
            <TextField
              label="Minimum yearly salary"
              type="number"
              min={0}
              inputMode="numeric"
              value={d.minSalary}
              onValue={(v) => set({ minSalary: v })}
              error={err('minSalary')}
            />
            <TextField
              label="Salary currency"
              maxLength={3}
              value={d.salaryCurrency}
              onValue={(v) => set({ salaryCurrency: v })}
              error={err('salaryCurrency')}
              hint="ISO code, e.g. EUR or USD."
            />
          </div>
          <Checkbox
            label="Exclude listings that state no pay"
            checked={d.requireSalary}
            onChange={(v) => set({ requireSalary: v })}
            hint="Only with a minimum salary."
          />
          <TextArea
            label="Companies to hide"
            rows={3}
            value={d.excludeCompanies}
            onValue={(v) => set({ excludeCompanies: v })}
            error={err('excludeCompanies')}
            hint="One per line."
          />
          <TextArea
            label="Words that hide a listing when its title has them"
            rows={3}
            value={d.excludeTitleWords}
            onValue={(v) => set({ excludeTitleWords: v })}
            error={err('excludeTitleWords')}
            hint="One per line, e.g. Senior or Intern."
          />
          <fieldset class="inline" aria-describedby={err('jobTypes') ? 'jobtypes-error' : undefined}>
            <legend>Job types (none ticked: all)</legend>
            {JOB_TYPES.map(([v, l]) => (
              <Checkbox
                key={v}
                label={l}
                checked={d.jobTypes.includes(v)}
                onChange={(on) => set({ jobTypes: on ? [...d.jobTypes, v] : d.jobTypes.filter((x) => x !== v) })}
              />
            ))}
            {err('jobTypes') && (
              <p class="field-error" id="jobtypes-error">
                {err('jobTypes')}
              </p>
            )}
          </fieldset>
        </fieldset>

        <fieldset class="card">
          <legend>Alerts</legend>
          <Select
            label="Alert frequency"
            value={d.alertFrequency}
            onValue={(v) => set({ alertFrequency: v as Draft['alertFrequency'] })}
            error={err('alertFrequency')}
            options={[
              ['OFF', 'Off'],
              ['EACH_RUN', 'After every collector run'],
              ['DAILY', 'At most daily'],
              ['WEEKLY', 'At most weekly'],
            ]}
          />
          <TextField
            label="Alert minimum score"
            type="number"
            min={0}
            max={100}
            inputMode="numeric"
            value={d.alertMinScore}
            onValue={(v) => set({ alertMinScore: v })}
            error={err('alertMinScore')}
            hint="New matches at or above it are sent (empty: 70)."
          />
          <Checkbox
            label="Email alerts"
            checked={d.alertEmail}
            onChange={(v) => set({ alertEmail: v })}
            hint={prefs.emailVerified ? 'Your address is verified.' : 'We mail you a link to verify your address first.'}
          />
          <TextField
            label="Webhook URL"
            type="url"
            value={d.alertWebhookUrl}
            onValue={(v) => set({ alertWebhookUrl: v })}
            error={err('alertWebhookUrl')}
            hint="Alerts are POSTed there as signed JSON. Leave empty for none."
          />
          {prefs.alertWebhookDisabled && <p class="banner banner-warn">The webhook was turned off: {prefs.alertWebhookDisabled}. Saving a new URL turns it on again.</p>}
          {prefs.alertLastError && <p class="banner banner-warn">The last alert could not be delivered: {prefs.alertLastError}</p>}
          {secret && (
            <div class="banner banner-ok" role="status">
              <p>Your webhook's signing secret (shown this once; keep it):</p>
              <code class="secret">{secret}</code>
            </div>
          )}
          {prefs.alertWebhookUrl && (
            <>
              <button
                type="button"
                class="secondary"
                disabled={rotate.busy}
                onClick={async () => {
                  const r = await rotate.run(async () => (await gql(RotateWebhookSecret, {})).rotateWebhookSecret);
                  if (r) setSecret(r);
                }}
              >
                Make a new webhook secret
              </button>
              <ErrorBanner error={rotate.error} />
            </>
          )}
        </fieldset>
        <ErrorBanner
          error={save.error}
          placed={['locations', 'minSalary', 'salaryCurrency', 'excludeCompanies', 'excludeTitleWords', 'jobTypes', 'alertFrequency', 'alertMinScore', 'alertWebhookUrl']}
        />
        {saved && <Notice>{saved}</Notice>}
        <button type="submit" disabled={save.busy}>
          Save preferences
        </button>
      </form>
    </section>
  );
}

export function AccountPage() {
  const { me, setMe, signOut, flash } = useApp();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [changed, setChanged] = useState(false);
  const [delPassword, setDelPassword] = useState('');
  const [sure, setSure] = useState(false);
  const pw = useAction();
  const everywhere = useAction();
  const exp = useAction();
  const del = useAction();

  async function changePassword(e: Event) {
    e.preventDefault();
    setChanged(false);
    const r = await pw.run(async () => (await gql(ChangePassword, { currentPassword: current, newPassword: next })).changePassword);
    if (r) {
      auth.set(r.token);
      setMe(r.user);
      setCurrent('');
      setNext('');
      setChanged(true);
    }
  }

  async function deleteAccount(e: Event) {
    e.preventDefault();
    if (!sure) {
      del.setError(new ApiError('Tick the box to confirm first.', 'CONFIRM'));
      return;
    }
    const ok = await del.run(async () => (await gql(DeleteAccount, { password: delPassword })).deleteAccount);
    if (ok) signOut('Your account and everything of it were deleted.');
  }

  const wrongCurrent = pw.error?.code === 'UNAUTHENTICATED' ? 'That is not your current password.' : undefined;
  const wrongDel = del.error?.code === 'UNAUTHENTICATED' ? 'That is not your password.' : undefined;
  return (
    <section>
      <PageTitle>Account</PageTitle>
      <p>
        Signed in as <strong>{me.email}</strong>
        {me.role === 'ADMIN' ? ' (administrator)' : ''}.
      </p>

      <form class="card" onSubmit={changePassword} noValidate>
        <h2>Change password</h2>
        <TextField label="Current password" type="password" autoComplete="current-password" value={current} onValue={setCurrent} error={wrongCurrent} />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          value={next}
          onValue={setNext}
          error={fieldError(pw.error, 'password') ?? fieldError(pw.error, 'newPassword')}
          hint="At least 10 characters. Your other sessions are signed out."
        />
        {!wrongCurrent && <ErrorBanner error={pw.error} placed={['password', 'newPassword']} />}
        {changed && <Notice>Password changed. Every other session was signed out.</Notice>}
        <button type="submit" disabled={pw.busy}>
          Change password
        </button>
      </form>

      <div class="card">
        <h2>Sessions</h2>
        <p>Signs out this browser and every other device.</p>
        <button
          type="button"
          class="secondary"
          disabled={everywhere.busy}
          onClick={async () => {
            const ok = await everywhere.run(async () => (await gql(SignOutEverywhere, {})).signOutEverywhere);
            if (ok) signOut('You were signed out everywhere.');
          }}
        >
          Sign out everywhere
        </button>
        <ErrorBanner error={everywhere.error} />
      </div>

      <div class="card">
        <h2>Your data</h2>
        <p>Everything stored about you, as JSON.</p>
        <button
          type="button"
          class="secondary"
          disabled={exp.busy}
          onClick={async () => {
            const ok = await exp.run(async () => {
              await download('/me/export', 'jobcollector-export.json');
              return true;
            });
            if (ok) flash('Your export was downloaded.');
          }}
        >
          Export my data
        </button>
        <ErrorBanner error={exp.error} />
      </div>

      <form class="card danger" onSubmit={deleteAccount} noValidate>
        <h2>Delete account</h2>
        <p>Deletes your account, resume, matches, documents and preferences. There is no undo: export your data first.</p>
        <TextField label="Your password" type="password" autoComplete="current-password" value={delPassword} onValue={setDelPassword} error={wrongDel} />
        <Checkbox label="I understand this cannot be undone" checked={sure} onChange={setSure} />
        {!wrongDel && (del.error?.code === 'CONFIRM' ? <p class="banner banner-error" role="alert">{del.error.message}</p> : <ErrorBanner error={del.error} />)}
        <button type="submit" class="danger" disabled={del.busy}>
          Delete account
        </button>
      </form>
    </section>
  );
}
