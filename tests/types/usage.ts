// A typed mini-program using wx-session, checked with `tsc --strict` against the official wx
// typings (miniprogram-api-typings). Lines marked @ts-expect-error must stay errors.
import {
  createSession,
  DEFAULT_WASM_PATH,
  EnsureResult,
  ErrorCode,
  RequestResult,
  Rule,
  Session,
  SessionConfig,
  SessionState,
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
