// Type definitions for wx-session. Kept by hand next to the Rust config (src/config.rs); a test
// checks the config keys and error codes against the Rust source and both READMEs.

/** A rule on a server answer; every part given must hold. */
export type Rule =
  | { status: number; path?: undefined }
  | { status?: number; path: string; equals: unknown }
  | { status?: number; path: string; in: unknown[] }
  | { status?: number; path: string; exists: boolean }
  /** The field is there and is not this value (`code != 0`). */
  | { status?: number; path: string; notEquals: unknown }
  /** The field is there and is none of these. */
  | { status?: number; path: string; notIn: unknown[] };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'PATCH';

export interface LoginConfig {
  /** Login endpoint, relative to baseUrl or absolute. Default '/login'. */
  url?: string;
  /** Default 'POST'. */
  method?: HttpMethod | Lowercase<HttpMethod>;
  /** Where the wx.login code travels. Default 'body'. */
  codeIn?: 'body' | 'query' | 'header';
  /** Body field, query parameter or header name for the code. Default 'code'. */
  codeKey?: string;
  /** Dot path of the token in the JSON answer. Default 'token'. */
  tokenPath?: string;
  /** Dot path of the token's lifetime in seconds, when the server sends it. */
  expiresInPath?: string | null;
  /** The answer is a success only when this rule holds (for servers that answer 200 + a code). */
  okWhen?: Rule | null;
  /** Extra data merged into the login body (e.g. encryptedData/iv). Rejecting fails the login. */
  extra?: () => Promise<Record<string, unknown>>;
  /** Douyin: what to do when tt.login gives only an `anonymousCode` (the user is not logged in
   *  to the Douyin app). 'fail' (default): WX_LOGIN_FAILED; 'send': send it under
   *  `anonymousKey`; 'force': call tt.login({ force: true }), which asks the user to log in
   *  (waiting for the user up to authWaitMs, not timeoutMs; not asked again when it fails). */
  anonymous?: 'fail' | 'send' | 'force';
  /** Name the anonymous code goes under (where `codeIn` says). Default 'anonymousCode'. */
  anonymousKey?: string;
  /** Dot path of a refresh token in the answer. Default: refresh.refreshTokenPath when
   *  `refresh` is set. */
  refreshTokenPath?: string | null;
}

/** Swapping a refresh token for a new token (无感刷新) instead of a wx.login. */
export interface RefreshConfig {
  /** Refresh endpoint; only baseUrl's origin or a trusted one. Default '/refresh'. */
  url?: string;
  /** Default 'POST'. */
  method?: HttpMethod | Lowercase<HttpMethod>;
  /** How the refresh token is sent: a body field or a header named `key`. Default 'body'. */
  tokenIn?: 'body' | 'header';
  /** Default 'refreshToken'. */
  key?: string;
  /** Dot path of the new token in the answer. Default 'token'. */
  tokenPath?: string;
  /** Dot path of a new refresh token (rotation; none: the old one stays). Default 'refreshToken'. */
  refreshTokenPath?: string;
  /** Dot path of the new token's lifetime in seconds. Default null. */
  expiresInPath?: string | null;
  /** The answer is a success only when this rule holds. Default: any 2xx. */
  okWhen?: Rule | null;
  /** Refresh this long before a known expiry (at most half the token's lifetime). Default 60000. */
  aheadMs?: number;
}

/** Business-code failures of 2xx answers (`{ code, msg, data }` backends). */
export interface ApiConfig {
  /** A 2xx answer matching any rule rejects with API_ERROR (never a re-login). */
  failWhen?: Rule[];
  /** Dot path of the server's message, used as the error's message. */
  messagePath?: string | null;
}

/** What `onAuthRequired` gets: the call whose answer said the user must act. */
export interface AuthRequiredInfo {
  /** The path only. */
  url: string;
  method: HttpMethod;
  statusCode: number;
  data: unknown;
}

export interface CheckConfig {
  /** Check endpoint; the token travels in `tokenHeader`. Default '/auth'. */
  url?: string;
  /** Default 'POST'. */
  method?: HttpMethod | Lowercase<HttpMethod>;
  /** The token is valid only when this rule holds. Default: any 2xx. */
  okWhen?: Rule | null;
  /** Default 'always'. */
  policy?: 'always' | 'when-unknown' | 'never';
}

/** The platforms the SDK runs on. */
export type Platform = 'wechat' | 'douyin' | 'alipay' | 'qq' | 'baidu' | 'kuaishou';

/** The subset of `wx` the SDK uses, as WeChat, Douyin (`tt`), QQ (`qq`), Baidu (`swan`) and
 *  Kuaishou (`ks`) shape it. */
export interface WxLike {
  login(options: {
    force?: boolean;
    success?: (res: { code?: string; anonymousCode?: string; errMsg?: string }) => void;
    fail?: (err: { errMsg: string }) => void;
  }): void;
  checkSession?(options: { success?: () => void; fail?: () => void }): void;
  request(options: {
    url: string;
    method?: any;
    data?: any;
    header?: any;
    timeout?: number;
    success?: (res: any) => void;
    fail?: (err: { errMsg: string }) => void;
    [key: string]: any;
  }): unknown;
  /** Needed by session.uploadFile / session.downloadFile only. */
  uploadFile?(options: any): unknown;
  downloadFile?(options: any): unknown;
  getStorageSync(key: string): any;
  setStorageSync(key: string, value: any): void;
  removeStorageSync(key: string): void;
}

/** The subset of Alipay's `my` the SDK uses. */
export interface MyLike {
  getAuthCode(options: { scopes: string; success?: (res: { authCode: string }) => void; fail?: (err: { error?: number; errorMessage?: string }) => void }): void;
  request(options: { url: string; headers?: any; success?: (res: any) => void; fail?: (err: any) => void; [key: string]: any }): unknown;
  uploadFile?(options: any): unknown;
  downloadFile?(options: any): unknown;
  getStorageSync(options: { key: string }): { data?: any };
  setStorageSync(options: { key: string; data: any }): unknown;
  removeStorageSync(options: { key: string }): unknown;
}

export interface SessionConfig {
  /** Where relative URLs point, e.g. 'https://api.example.com'. Required. */
  baseUrl: string;
  /** Package path of the .wasm (or .wasm.br) for WXWebAssembly.
   *  Default '/miniprogram_npm/wx-session/wx_session_bg.wasm.br' (where 构建npm puts it). */
  wasmPath?: string;
  /** Storage key of the token record. Default 'token'. */
  storageKey?: string;
  /** Header carrying the token. Default 'token'. */
  tokenHeader?: string;
  /** Prefix before the token, e.g. 'Bearer '. Default ''. */
  tokenPrefix?: string;
  login?: LoginConfig;
  /** A server check of a stored token. Default: none. */
  check?: CheckConfig | null;
  /** Call wx.checkSession before trusting a stored token. Default true. */
  useCheckSession?: boolean;
  /** Any rule matching an API answer means "session invalid". Default [{ status: 401 }]. */
  invalidWhen?: Rule[];
  /** Retries of transient failures (network, 5xx, wx.login). Default 2, at most 10. */
  retries?: number;
  /** Time limit of each network, storage or wx call and of login.extra(), in ms. Default 10000. */
  timeoutMs?: number;
  /** Origins besides baseUrl's that the token may go to, e.g. ['https://cdn.example.com']. */
  trustedOrigins?: string[];
  /** The platform. Default: detected from the globals wx, tt, my, qq, swan, ks, in that order. */
  platform?: Platform;
  /** The platform object (wx, tt, my, qq, swan, ks; the key keeps its name). Default: the
   *  platform's global. */
  wx?: WxLike | MyLike;
  /** Called once per finished request, upload, download, login, check and refresh exchange,
   *  for monitoring. Never given the token, the login code or a body; its exceptions are ignored. */
  onReport?: (event: ReportEvent) => void;
  /** A refresh endpoint: an invalid or expiring token is swapped for a new one, not logged in
   *  again. Default: none. */
  refresh?: RefreshConfig | null;
  /** Business-code failures of 2xx answers. */
  api?: ApiConfig;
  /** Rules meaning "the user must act" (a login page, a phone number): the call waits for
   *  session.login(extra) or setToken. Default []. */
  authRequiredWhen?: Rule[];
  /** Called once for each burst of such answers: show the login page. */
  onAuthRequired?: (info: AuthRequiredInfo) => void;
  /** How long those calls wait, in ms, before AUTH_REQUIRED; also how long a forced Douyin
   *  login (login.anonymous 'force') waits for the user. Default 300000. */
  authWaitMs?: number;
  /** Called before every send of request/uploadFile/downloadFile (retries too), with the options
   *  about to go out (the token already in `header`): change them, return new ones, or a Promise
   *  of them. Throwing or rejecting fails the call with BEFORE_REQUEST_FAILED; nothing is sent.
   *  So does moving a send that carries the token to another origin (pick the URL in the call). */
  beforeRequest?: (options: Record<string, any>, info: { attempt: number }) => void | Record<string, any> | Promise<void | Record<string, any>>;
}

/** What `onReport` gets. */
export interface ReportEvent {
  kind: 'request' | 'upload' | 'download' | 'login' | 'check' | 'refresh';
  /** The path only: no origin, query or fragment. */
  url: string;
  method: HttpMethod;
  /** The last HTTP status, 0 when no answer came. */
  status: number;
  /** request/upload/download: the call resolved. login/check: a 2xx answer. */
  ok: boolean;
  /** The error code when not ok (null when a login/check answered non-2xx). */
  code: ErrorCode | null;
  /** Times sent (retries and the retry after a re-login included); 1 for login/check. */
  attempts: number;
  /** The session logged in again for this call. */
  relogin: boolean;
  /** The SDK's clock at the start and at the end: Date.now(), except that it never goes back
   *  (after the phone's clock was set back, it runs ahead of Date.now() by the jump). */
  startMs: number;
  endMs: number;
}

export type SessionState = 'idle' | 'checking' | 'logging-in' | 'ready' | 'failed';

export type ErrorCode =
  | 'CONFIG'
  | 'WASM_LOAD'
  | 'INTERNAL'
  | 'WX_LOGIN_FAILED'
  | 'LOGIN_EXTRA_FAILED'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'SERVER_REJECTED'
  | 'BAD_RESPONSE'
  | 'STORAGE'
  | 'SESSION_EXPIRED'
  | 'LOGGED_OUT'
  | 'API_ERROR'
  | 'AUTH_REQUIRED'
  | 'BEFORE_REQUEST_FAILED';

/** Every rejection and every error `onChange` reports. Messages never contain the token. */
export class WxSessionError extends Error {
  name: 'WxSessionError';
  /** Stable: branch on it. */
  code: ErrorCode;
  /** CONFIG: the offending key, e.g. 'login.tokenPath' or 'request.url'. */
  key?: string;
  /** SERVER_REJECTED: the HTTP status. */
  status?: number;
  /** API_ERROR: the answer that matched api.failWhen. */
  response?: { statusCode: number; data: any; header: Record<string, string> };
  constructor(code: ErrorCode, message: string, key?: string, status?: number);
}

/** True for a WxSessionError, also one from another copy of the SDK. */
export function isWxSessionError(value: unknown): value is WxSessionError;

export interface EnsureResult {
  token: string;
  source: 'storage' | 'login';
}

/** wx-style callbacks: each called at most once, as the Promise settles; their exceptions are
 *  ignored. */
export interface Callbacks<T> {
  success?: (result: T) => void;
  fail?: (error: WxSessionError) => void;
  complete?: (resultOrError: T | WxSessionError) => void;
}

/** What request/uploadFile/downloadFile return: a Promise you can also abort. */
export interface SessionTask<T, Task> extends Promise<T> {
  /** Gives up: the Promise rejects with ABORTED, the platform request is aborted if in flight,
   *  and no re-login starts for it. No effect once settled. */
  abort(): void;
  /** `listener` gets each platform task this call starts (a retry starts another), e.g. for
   *  `onProgressUpdate`. Returns the same promise. */
  onTask(listener: (task: Task) => void): SessionTask<T, Task>;
}

/** Options the SDK adds to every wx.* call it makes for you. */
export interface SessionOptions {
  /** Time limit in ms; overrides timeoutMs. */
  timeout?: number;
  /** false: no token, no re-login. Default true. */
  auth?: boolean;
  /** Retry network errors even for POST/PATCH (and uploads). Default false. */
  retry?: boolean;
}

export interface RequestOptions<T = any> extends SessionOptions, Callbacks<RequestResult<T>> {
  /** Relative to baseUrl, or absolute. */
  url: string;
  method?: HttpMethod | Lowercase<HttpMethod>;
  data?: string | Record<string, any> | ArrayBuffer;
  header?: Record<string, string>;
  dataType?: 'json' | string;
  responseType?: 'text' | 'arraybuffer';
  [key: string]: unknown;
}

/** wx.uploadFile's options; `url` relative to baseUrl. Always a POST. */
export type UploadFileOptions = SessionOptions &
  Callbacks<WechatMiniprogram.UploadFileSuccessCallbackResult> &
  Omit<WechatMiniprogram.UploadFileOption, 'success' | 'fail' | 'complete' | 'timeout'>;

/** wx.downloadFile's options; `url` relative to baseUrl. Always a GET. */
export type DownloadFileOptions = SessionOptions &
  Callbacks<WechatMiniprogram.DownloadFileSuccessCallbackResult> &
  Omit<WechatMiniprogram.DownloadFileOption, 'success' | 'fail' | 'complete' | 'timeout'>;

export interface RequestResult<T = any> {
  statusCode: number;
  data: T;
  header: Record<string, string>;
  [key: string]: unknown;
}

export interface Session {
  /** A usable token: storage → check → login. Concurrent calls share one login. */
  ensure(): Promise<EnsureResult>;
  /** wx.request with the token; one shared re-login and retry when the session is invalid. */
  request<T = any>(options: RequestOptions<T>): SessionTask<RequestResult<T>, WechatMiniprogram.RequestTask>;
  /** wx.uploadFile with the token, like request (the answer's string `data` is read as JSON by
   *  the rules). Resolves with the platform's success object. */
  uploadFile(options: UploadFileOptions): SessionTask<WechatMiniprogram.UploadFileSuccessCallbackResult, WechatMiniprogram.UploadTask>;
  /** wx.downloadFile with the token, like request. */
  downloadFile(options: DownloadFileOptions): SessionTask<WechatMiniprogram.DownloadFileSuccessCallbackResult, WechatMiniprogram.DownloadTask>;
  /** A new login (fresh wx.login code), `extra` merged into its body, e.g.
   *  `{ phoneCode: e.detail.code }` from a getPhoneNumber button. A login already running ends
   *  first; then each login() call gets its own login, in order (every `extra` is sent). Calls
   *  needing a token meanwhile share it; the current token stays in use until it succeeds, and
   *  if it fails (only this call rejects). */
  login(extra?: Record<string, unknown>): Promise<EnsureResult>;
  /** Forget the token in memory and storage. */
  logout(): Promise<void>;
  /** The token in use, or null (none yet, expired, or the wasm still loading). Synchronous. */
  token(): string | null;
  /** Installs a token obtained elsewhere (scan-to-login, a web-view): validated (CONFIG if
   *  empty, longer than 8192 bytes, or with anything but visible ASCII and spaces), stored as if
   *  a login returned it, reported 'ready'; a login(extra) in flight is aborted (ABORTED), other
   *  waiters get this token. `expiresIn` in seconds, when known. */
  setToken(token: string, options?: { expiresIn?: number; refreshToken?: string }): Promise<void>;
  /** Listen to state changes; `error` is set on 'failed' and for non-fatal STORAGE errors.
   *  Returns a function that removes the listener. */
  onChange(listener: (state: SessionState, error?: WxSessionError) => void): () => void;
}

/** Creates the session. Synchronous: every method waits for the wasm and the session. */
export function createSession(config: SessionConfig): Session;

export const DEFAULT_WASM_PATH: string;
