// A typed mini-program using wx-session, checked with `tsc --strict` against the official wx
// typings (miniprogram-api-typings). Lines marked @ts-expect-error must stay errors.
import {
  createSession,
  DEFAULT_WASM_PATH,
  AuthRequiredInfo,
  EnsureResult,
  ErrorCode,
  HttpMethod,
  ReportEvent,
  RequestResult,
  Rule,
  Session,
  SessionConfig,
  SessionState,
  SessionTask,
  WxSessionError,
  isWxSessionError,
} from '../../js-glue/dist/index';

const invalidWhen: Rule[] = [{ status: 401 }, { path: 'code', equals: -1 }, { path: 'error', in: ['ERR_SKEY_INVALID'] }];

const config: SessionConfig = {
  baseUrl: 'https://api.example.com',
  wasmPath: DEFAULT_WASM_PATH,
  storageKey: 'token',
  tokenHeader: 'X-WX-Skey',
  tokenPrefix: '',
  login: {
    url: '/weapp/login',
    method: 'GET',
    codeIn: 'header',
    codeKey: 'X-WX-Code',
    tokenPath: 'data.skey',
    expiresInPath: null,
    okWhen: { path: 'code', equals: 0 },
    extra: () => Promise.resolve({ iv: 'iv', encryptedData: 'data' }),
  },
  check: { url: '/auth', method: 'post', okWhen: { path: 'errCode', exists: true }, policy: 'when-unknown' },
  useCheckSession: true,
  invalidWhen,
  retries: 2,
  timeoutMs: 10000,
  wx, // the official `wx` object fits the SDK's WxLike
};

interface Profile {
  nickname: string;
}

interface AppData {
  session: Session;
}

App<AppData>({
  session: createSession(config),
  onLaunch() {
    this.session.ensure().then((result: EnsureResult) => {
      const source: 'storage' | 'login' = result.source;
      const token: string = result.token;
      console.log(source, token.length);
    });
  },
});

const session = getApp<AppData>().session;

session.request<Profile>({ url: '/api/profile', method: 'GET', header: { 'X-Trace': '1' }, timeout: 5000 }).then((res: RequestResult<Profile>) => {
  const name: string = res.data.nickname;
  const status: number = res.statusCode;
  console.log(name, status);
});

session.request({ url: '/api/order', method: 'POST', data: { id: 1 }, retry: true, auth: true }).catch((error: WxSessionError) => {
  const code: ErrorCode = error.code;
  if (code === 'SERVER_REJECTED') console.log(error.status);
  if (code === 'CONFIG') console.log(error.key);
});

session.ensure().catch((error: unknown) => {
  if (isWxSessionError(error)) {
    const narrowed: WxSessionError = error;
    console.log(narrowed.code === 'INTERNAL', error instanceof WxSessionError);
  }
});
const made = new WxSessionError('NETWORK', 'offline');
console.log(made.code, made instanceof Error);

const stop: () => void = session.onChange((state: SessionState, error?: WxSessionError) => {
  if (state === 'failed' && error) console.log(error.code);
});
stop();
session.logout().then(() => undefined);

// @ts-expect-error not a state
const notAState: SessionState = 'loading';
// @ts-expect-error not an error code
const notACode: ErrorCode = 'OOPS';
// @ts-expect-error baseUrl is required
createSession({});
// @ts-expect-error codeIn is one of body/query/header
createSession({ baseUrl: 'https://x', login: { codeIn: 'cookie' } });
// @ts-expect-error policy is one of always/when-unknown/never
createSession({ baseUrl: 'https://x', check: { policy: 'sometimes' } });
// @ts-expect-error a request needs a url
session.request({ method: 'GET' });
console.log(notAState, notACode);

// ---- uploads, downloads, callbacks, abort/onTask, login(extra), token()/setToken(), onReport ----

const reported: ReportEvent[] = [];
const monitored = createSession({
  baseUrl: 'https://api.example.com',
  onReport: (event: ReportEvent) => {
    const kind: 'request' | 'upload' | 'download' | 'login' | 'check' | 'refresh' = event.kind;
    const ms: number = event.endMs - event.startMs;
    const code: ErrorCode | null = event.code;
    const counts: [number, number, boolean, boolean] = [event.status, event.attempts, event.ok, event.relogin];
    console.log(kind, ms, code, counts, event.url, event.method);
    reported.push(event);
  },
});

const upload: SessionTask<WechatMiniprogram.UploadFileSuccessCallbackResult, WechatMiniprogram.UploadTask> = monitored.uploadFile({
  url: '/api/avatar',
  filePath: 'wxfile://tmp_avatar.png',
  name: 'avatar',
  formData: { album: 'a1' },
  header: { 'X-Trace': '1' },
  timeout: 30000,
  retry: true,
  success: (res) => {
    const data: string = res.data;
    const status: number = res.statusCode;
    console.log(JSON.parse(data), status);
  },
  fail: (error) => {
    const code: ErrorCode = error.code;
    console.log(code);
  },
  complete: (resOrError) => console.log(resOrError),
});
upload.onTask((task) => task.onProgressUpdate((res) => console.log(res.progress))).then((res) => console.log(res.statusCode));
upload.abort();

monitored.downloadFile({ url: '/api/file.pdf', auth: true }).onTask((task: WechatMiniprogram.DownloadTask) => task.abort()).then((res) => {
  const file: string = res.tempFilePath;
  console.log(file);
});

const profile = monitored.request<Profile>({ url: '/api/profile', success: (res) => console.log(res.data.nickname) });
profile.onTask((task: WechatMiniprogram.RequestTask) => task.abort());
profile.abort();

monitored.login({ phoneCode: 'from-button' }).then((result: EnsureResult) => {
  const source: 'storage' | 'login' = result.source;
  console.log(source, result.token);
});
monitored.login().catch((error: WxSessionError) => console.log(error.code));

const current: string | null = monitored.token();
if (current !== null) console.log(current.length);
const installed: Promise<void> = monitored.setToken('token-from-web-view', { expiresIn: 7200 });
monitored.setToken('token-from-web-view').then(() => undefined);
console.log(installed);

// @ts-expect-error setToken takes a string
monitored.setToken(1);
// @ts-expect-error expiresIn is a number of seconds
monitored.setToken('t', { expiresIn: '7200' });
// @ts-expect-error setToken needs a token
monitored.setToken();
// @ts-expect-error token() may be null
const notNull: string = monitored.token();
// @ts-expect-error login's extra is an object
monitored.login('phone-code');
// @ts-expect-error uploadFile needs filePath and name
monitored.uploadFile({ url: '/api/avatar' });
// @ts-expect-error downloadFile needs a url
monitored.downloadFile({ header: {} });
// @ts-expect-error abort() returns nothing to await
monitored.request({ url: '/x' }).abort().then(() => undefined);
// @ts-expect-error onTask takes a function
monitored.request({ url: '/x' }).onTask('task');
// @ts-expect-error fail gets a WxSessionError, not a string
monitored.request({ url: '/x', fail: (error: string) => console.log(error) });
// @ts-expect-error onReport takes a function
createSession({ baseUrl: 'https://x', onReport: true });
// @ts-expect-error not a report kind
const notAKind: ReportEvent['kind'] = 'socket';
console.log(notNull, notAKind, reported.length);

// ---- refresh pairs, beforeRequest, business errors, the app's own login ----------------------

const signed = createSession({
  baseUrl: 'https://api.example.com',
  tokenHeader: 'Authorization',
  tokenPrefix: 'Bearer ',
  login: { refreshTokenPath: 'refreshToken', expiresInPath: 'expiresIn' },
  refresh: { url: '/auth/refresh', tokenIn: 'body', key: 'refreshToken', tokenPath: 'accessToken', refreshTokenPath: 'refreshToken', expiresInPath: 'expiresIn', aheadMs: 30000 },
  api: { failWhen: [{ path: 'code', notEquals: 0 }, { path: 'errno', notIn: ['0', 'OK'] }], messagePath: 'msg' },
  authRequiredWhen: [{ path: 'code', equals: 4031 }],
  authWaitMs: 120000,
  onAuthRequired: (info: AuthRequiredInfo) => {
    const where: [string, HttpMethod, number] = [info.url, info.method, info.statusCode];
    console.log(where, info.data);
  },
  beforeRequest: (options, { attempt }) => {
    options.header = { ...options.header, 'X-Attempt': String(attempt) };
    return Promise.resolve(options);
  },
});
signed.setToken('scanned', { refreshToken: 'ref-scanned', expiresIn: 3600 });
signed.request({ url: '/api/pay' }).catch((e: WxSessionError) => {
  if (e.code === 'API_ERROR' && e.response) console.log(e.message, e.response.statusCode, e.response.data);
  const handled: ErrorCode[] = ['API_ERROR', 'AUTH_REQUIRED', 'BEFORE_REQUEST_FAILED'];
  console.log(handled.includes(e.code));
});
// @ts-expect-error tokenIn is 'body' or 'header'
createSession({ baseUrl: 'https://x', refresh: { tokenIn: 'cookie' } });
