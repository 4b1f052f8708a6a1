// The app's only way to the server: GraphQL over HTTP, multipart uploads, downloads with the
// bearer header, and subscriptions over graphql-transport-ws.
import { print } from '@0no-co/graphql.web';
import type { TadaDocumentNode } from './graphql';

const TOKEN_KEY = 'jobcollector.token';

type Listener = (token: string | null) => void;
const listeners = new Set<Listener>();
let current: string | null = readToken();

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export const auth = {
  get token(): string | null {
    return current;
  },
  set(token: string | null) {
    current = token;
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch {
      /* storage unavailable: the token lives in memory */
    }
    listeners.forEach((l) => l(token));
  },
  subscribe(l: Listener): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'NETWORK'
  | 'TIMEOUT'
  | string;

export class ApiError extends Error {
  code: ErrorCode;
  field?: string;
  /** Seconds to wait, for RATE_LIMITED. */
  retryAfter?: number;
  /** When the wait ends (ms since the epoch). */
  retryAt?: number;

  constructor(message: string, code: ErrorCode, field?: string, retryAfter?: number) {
    super(message);
    this.code = code;
    this.field = field;
    if (retryAfter !== undefined && Number.isFinite(retryAfter)) {
      this.retryAfter = retryAfter;
      this.retryAt = Date.now() + retryAfter * 1000;
    }
  }
}

export const UNREACHABLE = 'Cannot reach the server. Check your connection, then try again.';

interface GqlError {
  message?: string;
  extensions?: { code?: string; field?: string; retryAfter?: number | string };
}

function parseRetryAfter(v: string | number | null | undefined): number | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const at = Date.parse(String(v));
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - Date.now()) / 1000)) : undefined;
}

export function toApiError(e: GqlError | undefined, retryHeader?: string | null): ApiError {
  const code = e?.extensions?.code || 'INTERNAL';
  const field = e?.extensions?.field;
  let message = e?.message || 'Something went wrong.';
  // VALIDATION messages read "field: what is wrong"; the field is shown by the form.
  if (field && message.startsWith(`${field}: `)) message = message.slice(field.length + 2);
  if (message) message = message[0].toUpperCase() + message.slice(1);
  if (code === 'INTERNAL' && !e?.message) message = 'The server had a problem. Try again later.';
  return new ApiError(message, code, field, parseRetryAfter(e?.extensions?.retryAfter ?? retryHeader));
}

export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(e instanceof Error ? e.message : String(e), 'INTERNAL');
}

async function post(body: BodyInit, json: boolean): Promise<any> {
  const headers: Record<string, string> = {};
  if (json) headers['content-type'] = 'application/json';
  if (current) headers.authorization = `Bearer ${current}`;
  let res: Response;
  try {
    res = await fetch('/graphql', { method: 'POST', headers, body });
  } catch {
    throw new ApiError(UNREACHABLE, 'NETWORK');
  }
  const retryHeader = res.headers.get('retry-after');
  let payload: any = null;
  try {
    payload = await res.json();
  } catch {
    /* not JSON: a proxy's error page, or nothing */
  }
  if (payload && Array.isArray(payload.errors) && payload.errors.length) {
    throw toApiError(payload.errors[0], retryHeader);
  }
  if (res.status === 429) {
    throw new ApiError('Too many requests.', 'RATE_LIMITED', undefined, parseRetryAfter(retryHeader) ?? 30);
  }
  if (!payload || !res.ok) {
    if (res.status >= 502 && res.status <= 504) throw new ApiError(UNREACHABLE, 'NETWORK');
    throw new ApiError(`The server answered HTTP ${res.status}.`, 'INTERNAL');
  }
  return payload.data;
}

/** Operations whose UNAUTHENTICATED means a wrong password, not an ended session. */
const PASSWORD_CHECKS = new Set(['Login', 'Register', 'ChangePassword', 'DeleteAccount']);
let sessionEnded: () => void = () => {};
/** Called when the server refuses the token (expired, or revoked by a sign-out everywhere). */
export function onSessionEnded(f: () => void) {
  sessionEnded = f;
}

function operationName(doc: { definitions: readonly unknown[] }): string | undefined {
  for (const d of doc.definitions as { kind: string; name?: { value: string } }[]) {
    if (d.kind === 'OperationDefinition') return d.name?.value;
  }
  return undefined;
}

/** Runs a query or mutation. Throws ApiError. */
export async function gql<R, V>(doc: TadaDocumentNode<R, V>, variables: V): Promise<R> {
  const sent = current;
  try {
    return await post(JSON.stringify({ query: print(doc), variables }), true);
  } catch (e) {
    const name = operationName(doc);
    if (e instanceof ApiError && e.code === 'UNAUTHENTICATED' && sent && sent === current && !PASSWORD_CHECKS.has(name ?? '')) {
      sessionEnded();
    }
    throw e;
  }
}

/** Runs an operation whose variable `file` is an Upload (GraphQL multipart request spec). */
export function gqlUpload<R, V extends { file: File }>(doc: TadaDocumentNode<R, V>, file: File): Promise<R> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: print(doc), variables: { file: null } }));
  form.append('map', JSON.stringify({ '0': ['variables.file'] }));
  form.append('0', file, file.name);
  return post(form, false);
}

function fileNameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      /* fall through */
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}

/** Fetches a protected file with the bearer header and saves it through a blob URL. */
export async function download(path: string, fallbackName: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, { headers: current ? { authorization: `Bearer ${current}` } : {} });
  } catch {
    throw new ApiError(UNREACHABLE, 'NETWORK');
  }
  if (!res.ok) {
    let err: GqlError | undefined;
    try {
      const body = await res.json();
      err = body?.errors?.[0] ?? (body?.error ? { message: String(body.error) } : undefined);
    } catch {
      /* not JSON */
    }
    if (res.status === 429) throw toApiError(err ?? { extensions: { code: 'RATE_LIMITED' }, message: 'Too many requests.' }, res.headers.get('retry-after'));
    if (res.status === 401) throw new ApiError(err?.message || 'Sign in again to download this.', 'UNAUTHENTICATED');
    if (res.status === 404) throw new ApiError(err?.message || 'There is nothing to download.', 'NOT_FOUND');
    if (res.status >= 502 && res.status <= 504) throw new ApiError(UNREACHABLE, 'NETWORK');
    throw new ApiError(err?.message || `The download failed (HTTP ${res.status}).`, err?.extensions?.code || 'INTERNAL');
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileNameOf(res.headers.get('content-disposition'), fallbackName);
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export interface SubscriptionHandlers<R> {
  next(data: R): void;
  error(e: ApiError): void;
  complete(): void;
}

/**
 * One subscription over its own WebSocket (graphql-transport-ws on /graphql/ws). The token
 * goes in the connection_init payload as {"Authorization": "Bearer …"}. Returns a stop
 * function. A socket that closes before the operation completes reports a NETWORK error.
 */
export function subscribe<R, V>(doc: TadaDocumentNode<R, V>, variables: V, h: SubscriptionHandlers<R>): () => void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
  let finished = false;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, 'graphql-transport-ws');
  } catch {
    queueMicrotask(() => h.error(new ApiError(UNREACHABLE, 'NETWORK')));
    return () => {};
  }
  const id = '1';
  const send = (m: object) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };
  const finish = () => {
    finished = true;
    try {
      ws.close(1000);
    } catch {
      /* already closed */
    }
  };
  ws.onopen = () => send({ type: 'connection_init', payload: current ? { Authorization: `Bearer ${current}` } : {} });
  ws.onmessage = (ev) => {
    if (finished) return;
    let m: any;
    try {
      m = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    switch (m?.type) {
      case 'connection_ack':
        send({ id, type: 'subscribe', payload: { query: print(doc), variables } });
        break;
      case 'ping':
        send({ type: 'pong' });
        break;
      case 'next':
        if (m.payload?.errors?.length) {
          finish();
          h.error(toApiError(m.payload.errors[0]));
        } else if (m.payload?.data) {
          h.next(m.payload.data as R);
        }
        break;
      case 'error':
        finish();
        h.error(toApiError(Array.isArray(m.payload) ? m.payload[0] : m.payload));
        break;
      case 'complete':
        finish();
        h.complete();
        break;
    }
  };
  ws.onclose = () => {
    if (!finished) {
      finished = true;
      h.error(new ApiError('Live updates were interrupted.', 'NETWORK'));
    }
  };
  return () => {
    if (finished) return;
    send({ id, type: 'complete' });
    finish();
  };
}

/**
 * Follows something live: the subscription first; if the socket cannot be used, `poll`
 * every two seconds until it answers true (finished).
 */
export function follow<R, V>(
  doc: TadaDocumentNode<R, V>,
  variables: V,
  on: { data(d: R): void; error(e: ApiError): void; done(): void },
  poll: () => Promise<boolean>,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (stopped) return;
    try {
      if (await poll()) {
        if (!stopped) on.done();
        return;
      }
    } catch (e) {
      const err = asApiError(e);
      if (err.code !== 'NETWORK') {
        on.error(err);
        return;
      }
    }
    if (!stopped) timer = setTimeout(tick, 2000);
  };
  const stop = subscribe(doc, variables, {
    next: (d) => !stopped && on.data(d),
    complete: () => !stopped && on.done(),
    error: (e) => {
      if (stopped) return;
      if (e.code === 'NETWORK') tick();
      else on.error(e);
    },
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    stop();
  };
}
