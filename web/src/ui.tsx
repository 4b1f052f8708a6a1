// Shared pieces: routing, form fields with their errors, error banners, formatting.
import { createContext, type ComponentChildren, type JSX } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, asApiError } from './api';
import type { Me } from './ops';

// ---- routing (hash routes: #/matches, #/matches/ID, #/admin/runs, …)

function parseHash(): string[] {
  const h = location.hash.replace(/^#\/?/, '').split('?')[0];
  return h ? h.split('/').map(decodeURIComponent) : [];
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(path: string) {
  const target = `#${path}`;
  if (location.hash !== target) location.hash = target;
}

// ---- app context

export interface Ctx {
  me: Me;
  setMe(me: Me): void;
  refreshMe(): Promise<void>;
  flash(message: string): void;
  signOut(message?: string): void;
}

export const AppCtx = createContext<Ctx>(null as unknown as Ctx);
export const useApp = () => useContext(AppCtx);

// ---- errors

/** The message of a VALIDATION error on `field`, if that is what `err` is. */
export function fieldError(err: ApiError | null, field: string): string | undefined {
  return err && err.code === 'VALIDATION' && err.field === field ? err.message : undefined;
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

export function describeError(err: ApiError, now = Date.now()): string {
  switch (err.code) {
    case 'NETWORK':
      return err.message;
    case 'RATE_LIMITED': {
      const msg = /[.!?]$/.test(err.message) ? err.message : `${err.message}.`;
      if (err.retryAt === undefined) return `${msg} Please wait a little, then try again.`;
      const left = Math.max(0, Math.ceil((err.retryAt - now) / 1000));
      const at = new Date(err.retryAt).toLocaleTimeString();
      return left > 0
        ? `${msg} You can try again in ${left} s (at ${at}).`
        : `${msg} You can try again now.`;
    }
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'VALIDATION':
      return err.message;
    case 'TIMEOUT':
      return 'The server took too long to answer. Try again.';
    default:
      return err.message || 'The server had a problem. Try again later.';
  }
}

/**
 * A form-level error: shown unless it is a VALIDATION error that a field of `placed`
 * shows under itself.
 */
export function ErrorBanner({ error, placed = [] }: { error: ApiError | null; placed?: string[] }) {
  const limited = error?.code === 'RATE_LIMITED';
  const now = useNow(limited);
  if (!error) return null;
  if (error.code === 'VALIDATION' && error.field && placed.includes(error.field)) return null;
  return (
    <div class={`banner banner-error${error.code === 'NETWORK' ? ' banner-network' : ''}`} role="alert">
      {describeError(error, now)}
    </div>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <div class="banner banner-ok" role="status">
      {children}
    </div>
  );
}

/** Runs an async action with a busy flag and its ApiError. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      const err = asApiError(e);
      setError(err);
      // Take the keyboard to the field at fault once it shows its message.
      if (err.code === 'VALIDATION' && err.field) {
        setTimeout(() => document.querySelector<HTMLElement>('main [aria-invalid="true"]')?.focus(), 0);
      }
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

// ---- fields

let idSeq = 0;
export function useId(prefix: string): string {
  const [id] = useState(() => `${prefix}-${++idSeq}`);
  return id;
}

/** What the control of a field needs: its id, and the ids of its hint and error to point at. */
interface ControlIds {
  id: string;
  invalid: 'true' | undefined;
  describedBy: string | undefined;
}

/** The frame every field shares: a visible label, an optional hint, the control, and the
 * error under it, with the control pointing at both (`aria-describedby`, `aria-invalid`). */
function Field({
  id,
  prefix,
  label,
  hint,
  error,
  control,
}: {
  id?: string;
  prefix: string;
  label: string;
  hint?: ComponentChildren;
  error?: string;
  control(ids: ControlIds): ComponentChildren;
}) {
  const auto = useId(prefix);
  const fid = id || auto;
  const hintId = hint ? `${fid}-hint` : undefined;
  const errId = error ? `${fid}-error` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={fid}>{label}</label>
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {control({ id: fid, invalid: error ? 'true' : undefined, describedBy })}
      {error && (
        <p class="field-error" id={errId}>
          {error}
        </p>
      )}
    </div>
  );
}

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'label' | 'value' | 'onInput'> & {
  label: string;
  value: string;
  onValue(v: string): void;
  error?: string;
  hint?: ComponentChildren;
};

export function TextField({ label, value, onValue, error, hint, id, ...rest }: InputProps) {
  return (
    <Field
      id={id as string | undefined}
      prefix="f"
      label={label}
      hint={hint}
      error={error}
      control={(ids) => (
        <input
          {...rest}
          id={ids.id}
          value={value}
          onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
          aria-invalid={ids.invalid}
          aria-describedby={ids.describedBy}
        />
      )}
    />
  );
}

type AreaProps = Omit<JSX.TextareaHTMLAttributes<HTMLTextAreaElement>, 'label' | 'value' | 'onInput'> & {
  label: string;
  value: string;
  onValue(v: string): void;
  error?: string;
  hint?: ComponentChildren;
};

export function TextArea({ label, value, onValue, error, hint, id, ...rest }: AreaProps) {
  return (
    <Field
      id={id as string | undefined}
      prefix="t"
      label={label}
      hint={hint}
      error={error}
      control={(ids) => (
        <textarea
          {...rest}
          id={ids.id}
          value={value}
          onInput={(e) => onValue((e.currentTarget as HTMLTextAreaElement).value)}
          aria-invalid={ids.invalid}
          aria-describedby={ids.describedBy}
        />
      )}
    />
  );
}

export function Checkbox({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange(v: boolean): void; hint?: string }) {
  const id = useId('c');
  return (
    <div class="check">
      <input
        type="checkbox"
        id={id}
        checked={checked}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
        aria-describedby={hint ? `${id}-hint` : undefined}
      />
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function Select({
  label,
  value,
  onValue,
  options,
  error,
}: {
  label: string;
  value: string;
  onValue(v: string): void;
  options: [string, string][];
  error?: string;
}) {
  return (
    <Field
      prefix="s"
      label={label}
      error={error}
      control={(ids) => (
        <select
          id={ids.id}
          value={value}
          onChange={(e) => onValue((e.currentTarget as HTMLSelectElement).value)}
          aria-invalid={ids.invalid}
          aria-describedby={ids.describedBy}
        >
          {options.map(([v, l]) => (
            <option value={v} key={v}>
              {l}
            </option>
          ))}
        </select>
      )}
    />
  );
}

// ---- formatting

export function fmtDateTime(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString();
}

export function fmtNumber(n: number): string {
  return n.toLocaleString();
}

const INTERVALS: Record<string, string> = {
  yearly: 'a year',
  monthly: 'a month',
  weekly: 'a week',
  daily: 'a day',
  hourly: 'an hour',
};

export function fmtSalary(s: { min?: number | null; max?: number | null; currency?: string | null; interval?: string | null; estimated: boolean } | null | undefined): string | null {
  if (!s || (s.min == null && s.max == null)) return null;
  const money = (n: number) => {
    if (s.currency && /^[A-Za-z]{3}$/.test(s.currency)) {
      try {
        return new Intl.NumberFormat(undefined, { style: 'currency', currency: s.currency, maximumFractionDigits: 0 }).format(n);
      } catch {
        /* unknown code */
      }
    }
    return `${Math.round(n).toLocaleString()}${s.currency ? ` ${s.currency}` : ''}`;
  };
  const range = s.min != null && s.max != null && s.min !== s.max ? `${money(s.min)}–${money(s.max)}` : money((s.min ?? s.max)!);
  const per = s.interval ? ` ${INTERVALS[s.interval] ?? s.interval}` : '';
  return `${range}${per}${s.estimated ? ' (estimated by the board)' : ''}`;
}

/** Splits a list typed by a person: one per line or comma-separated. */
export function splitList(s: string): string[] {
  return s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

export function PageTitle({ children }: { children: ComponentChildren }) {
  return (
    <h1 tabIndex={-1} class="page-title">
      {children}
    </h1>
  );
}
