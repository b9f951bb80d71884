// craftledger's web page: sign-in, the worker's growth record, the HR
// talent review and the auditor's event history. Reads only through the
// GraphQL API of the same origin (POST /graphql with a bearer token).
// Routes live in the hash: #/signin, #/worker/<id>, #/hr?…, #/audit?…;
// a global asOf=YYYY-MM-DD in the hash rebuilds any view as of that day.
'use strict';
(function () {
  const I18N = window.CL_I18N, CH = window.CL_CHARTS;
  const S = {
    lang: localStorage.getItem('craftledger.lang') === 'en' ? 'en' : 'zh',
    token: sessionStorage.getItem('craftledger.token') || '',
    viewer: null,
    levels: [], trades: [], academies: [],
    hr: { cursors: [null], page: 0 },
    audit: { cursors: [null], page: 0 },
    seq: 0 // render generation: a slow answer for an old route is dropped
  };
  // What tests and curious users can read: the last export and render time.
  const pub = window.craftledger = { lastExport: null, renders: [], workerDomMs: 0 };

  // ---------- helpers ----------
  function t(key) {
    let v = I18N[S.lang];
    for (const k of key.split('.')) v = v == null ? undefined : v[k];
    if (v === undefined) {
      v = I18N.zh;
      for (const k of key.split('.')) v = v == null ? undefined : v[k];
    }
    if (typeof v !== 'string') return v === undefined ? key : v;
    const args = Array.prototype.slice.call(arguments, 1);
    return v.replace(/\{(\d)\}/g, (m, i) => args[i] !== undefined ? String(args[i]) : m);
  }
  // tn: a count, formatted, in the key's singular form (key + 'One', where
  // the language has one) for 1.
  function tn(key, n) {
    const one = n === 1 && I18N[S.lang][key + 'One'] !== undefined;
    return t(one ? key + 'One' : key, fmtNum(n, 0));
  }
  function tk(group, key) { // a translated enumeration value, the raw key when unknown
    const g = I18N[S.lang][group];
    return g && g[key] !== undefined ? g[key] : key;
  }
  function h(tag, attrs) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (let i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(x => add(e, x)); return; }
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  const locale = () => I18N[S.lang].locale;
  // Intl formatters are costly to build: one per language and style.
  const fmtCache = {};
  function formatter(kind, opts) {
    const k = S.lang + kind;
    if (!fmtCache[k]) fmtCache[k] = kind.startsWith('n') ? new Intl.NumberFormat(locale(), opts) : new Intl.DateTimeFormat(locale(), opts);
    return fmtCache[k];
  }
  // Dates are the ledger's: China's calendar (UTC+8, the domain's
  // career.CivilDate), whatever the browser's zone. A civil date the server
  // gives as midnight UTC is that date there too.
  const LEDGER_TZ = 'Asia/Shanghai';
  function fmtDate(iso) {
    if (!iso) return '—';
    const d = iso instanceof Date ? iso : new Date(iso);
    if (isNaN(d)) return String(iso);
    return formatter('date', { year: 'numeric', month: 'long', day: 'numeric', timeZone: LEDGER_TZ }).format(d);
  }
  // civilYear: the year of an instant in the ledger's calendar (UTC+8).
  function civilYear(iso) { return new Date(Date.parse(iso) + 8 * 3600e3).getUTCFullYear(); }
  function fmtDateTime(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return String(iso || '—');
    return formatter('datetime', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hour12: false, timeZone: 'UTC' }).format(d) + 'Z';
  }
  function fmtNum(n, digits) {
    const d = digits === undefined ? 1 : digits;
    return formatter('num' + d, { maximumFractionDigits: d }).format(n);
  }
  function levelName(l) {
    // The ladder is fixed (新八级工): names by rank from i18n.js; the
    // server's names for anything else.
    if (l == null) return '—';
    let rank = typeof l === 'object' ? l.rank : l;
    if (typeof rank !== 'number') {
      const found = S.levels.find(x => x.api === l);
      if (!found) return String(l);
      rank = found.rank;
    }
    const local = I18N[S.lang].levels[rank];
    if (local) return local;
    const found = typeof l === 'object' ? l : S.levels.find(x => x.rank === rank);
    return found ? (S.lang === 'zh' ? found.zh : found.en) : String(l);
  }
  // tradeName: the catalogue's name for the code (S.trades) when it has
  // one, else the name the event gave (a writer's own, or none).
  // catalogueName is the trade catalogue's name for code, if it has one.
  function catalogueName(code) {
    const known = S.trades.find(x => x.code === code);
    return known && known.name;
  }
  function tradeName(tr) {
    if (!tr) return '';
    const name = catalogueName(tr.code) || tr.name;
    return name ? name + ' (' + tr.code + ')' : tr.code;
  }
  // W and LV render the codes and level names inside criterion texts.
  const W = w => (I18N.zh.words[w] !== undefined ? I18N.zh.words[w] : w);
  // critZh renders a criterion's required / actual text (events/policy
  // evaluate.go) in Chinese, phrase by phrase; what it does not know stays.
  const LEVEL_EN = () => I18N.en.levels.map((en, i) => [en, I18N.zh.levels[i]]).sort((a, b) => b[0].length - a[0].length);
  const CRIT = [
    [/≥ ([\d.]+) years of work in this or a related trade/g, '本职业或相关职业累计工作 ≥ $1 年'],
    [/≥ ([\d.]+) years of work in this trade/g, '本职业累计工作 ≥ $1 年'],
    [/ \+ ≥ ([\d.]+) years of work since/g, '，取得后累计工作 ≥ $1 年'],
    [/(\S+?（[^）]*）|\S+) certificate \(or higher\) in this (?:or a related )?trade/g, '本职业$1（或更高）证书'],
    [/completed apprenticeship in this (?:or a related )?trade/g, '本职业学徒期满'],
    [/aged ≥ (\d+) and working \(or about to work\) in this (?:or a related )?trade/g, '年满 $1 周岁且从事（或准备从事）本职业'],
    [/aged ≥ (\d+)/g, '年满 $1 周岁'],
    [/graduate of ([a-z_]+(?: \/ [a-z_]+)*)/g, (m, k) => k.split(' / ').map(W).join('、') + '毕业'],
    [/ in the speciality/g, '（本专业）'],
    [/, programme targeting (.+?) skills or above/g, '，培养目标为$1及以上'],
    [/, senior class/g, '，高级班'], [/, preparatory-technician certificate/g, '，预备技师'],
    [/(\S+) professional title \(or higher\)/g, (m, k) => W(k) + '职称（或更高）'],
    [/≥ ([\d.]+) hours of training in this (?:or a related )?trade/g, '本职业培训 ≥ $1 学时'],
    [/ within ([\d.]+) years/g, '（近 $1 年内）'],
    [/placed ≤ (\d+) in a (\S+(?: \/ \S+)*) competition/g, (m, n, k) => k.split(' / ').map(W).join('、') + '竞赛前 ' + n + ' 名'],
    [/an honour of (\S+) level or above/g, (m, k) => W(k) + '及以上荣誉'],
    [/≥ (\d+) apprentices mentored to (.+?) or above in this (?:or a related )?trade/g, '带出 ≥ $1 名达到$2及以上的徒弟'],
    [/an innovation result of (\S+) level or above/g, (m, k) => W(k) + '及以上创新成果'],
    [/, put into use/g, '，已应用'], [/leads an innovation studio/g, '领办创新工作室'],
    [/^(\S+) appointment/, '聘任为$1'],
    [/^(\d+) of (\d+)$/, '$2 项中满足 $1 项'],
    [/^([\d.]+) years \((\d+) days\) of (\d+) days needed$/, '已工作 $1 年（$2 天），需 $3 天'],
    [/; ([\d.]+) years \((\d+) days\) of work since (\S+)/g, '；自 $3 起工作 $1 年（$2 天）'],
    [/^highest: (.+) since (\S+)/, '最高：$1，自 $2 起'],
    [/^(.+) since (\S+) \(certificate (.+)\)/, '$1，自 $2 起（证书 $3）'],
    [/^no certificate$/, '无证书'], [/^none$/, '无'], [/^no matching education$/, '无符合的学历'],
    [/^no professional title$/, '无职称'], [/^([\d.]+) hours$/, '$1 学时'], [/^no qualifying placement$/, '无符合的竞赛名次'],
    [/^rank (\d+) in (\S+) \((\S+)\)/, (m, r, c, k) => c + ' 第 ' + r + ' 名（' + W(k) + '）'],
    [/^no qualifying honour$/, '无符合的荣誉'], [/^(\d+) apprentices$/, '$1 名徒弟'], [/^no qualifying innovation$/, '无符合的创新成果'],
    [/^no studio led$/, '未领办工作室'], [/^not appointed$/, '未聘任'], [/^birth date not recorded$/, '未记录出生日期'],
    [/^aged (\d+)/, '$1 周岁'], [/, in trade (\S+) since (\S+)/g, (m, c, d) => '，自 ' + d + ' 起从事' + (catalogueName(c) || c)], [/, not in the trade/g, '，未从事本职业'],
    [/^([a-z_]+) (\S+) completed (\S+)$/, (m, k, id, d) => W(k) + ' ' + id + '，' + d + ' 期满'],
    [/^([a-z_]+), (.*), (\d{4}-\d\d-\d\d)$/, (m, k, sp, d) => W(k) + '，' + sp + '，' + d],
    [/^(\d+) of (\d+) hold$/, '$2 项中满足 $1 项'],
    [/^(\S+) title (.+) since (\S+)$/, (m, k, n, d) => W(k) + '职称 ' + n + '，自 ' + d + ' 起'],
    [/ ?\(([a-z_]+(?:, [a-z_]+)*)\)/g, (m, k) => '（' + k.split(', ').map(W).join('、') + '）']
  ];
  function critText(text) {
    if (S.lang !== 'zh' || !text) return text;
    let out = text;
    for (const [en, zh] of LEVEL_EN()) out = out.replace(new RegExp('\\b' + en.replace(/[()]/g, '\\$&') + '(?![a-z])', 'gi'), zh);
    for (const [re, to] of CRIT) out = out.replace(re, to);
    return out;
  }
  // Policy labels are "中文 · English": show the half of the page's language.
  function bilingual(label) {
    const i = (label || '').indexOf(' · ');
    if (i < 0) return label;
    return S.lang === 'zh' ? label.slice(0, i) : label.slice(i + 3);
  }
  function announce(msg) { document.getElementById('live').textContent = msg; }

  // ---------- routing ----------
  // parseHash reads the route; bad is a path segment whose %-escapes do
  // not decode (route() refuses it: INVALID_ARGUMENT).
  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const qi = raw.indexOf('?');
    let bad = null;
    const path = (qi < 0 ? raw : raw.slice(0, qi)).split('/').filter(Boolean).map(p => {
      try { return decodeURIComponent(p); } catch (e) { bad = bad || p; return p; }
    });
    const qs = qi < 0 ? '' : raw.slice(qi + 1);
    const q = new URLSearchParams(qs);
    // asOf is read without form decoding: a "+" typed or pasted in
    // 2026-11-27T18:00:00+08:00 is the offset's sign, not a space.
    const m = /(?:^|&)asOf=([^&]*)/.exec(qs);
    if (m) { try { q.set('asOf', decodeURIComponent(m[1])); } catch (e) { q.set('asOf', m[1]); } }
    return { path: path, q: q, bad: bad };
  }
  function href(path, params) {
    const q = new URLSearchParams();
    const asOf = parseHash().q.get('asOf');
    if (asOf) q.set('asOf', asOf);
    for (const k in params || {}) if (params[k]) q.set(k, params[k]);
    const qs = q.toString();
    return '#/' + path.map(encodeURIComponent).join('/') + (qs ? '?' + qs : '');
  }
  function go(path, params) { location.hash = href(path, params); }
  function asOf() { return parseHash().q.get('asOf') || undefined; }

  // ---------- GraphQL ----------
  class GqlError extends Error {
    constructor(code, message, retryAfter) { super(message); this.code = code; this.retryAfter = retryAfter; }
  }
  // The code of an HTTP status when the answer names none.
  const STATUS_CODE = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 413: 'RESOURCE_EXHAUSTED',
    429: 'RESOURCE_EXHAUSTED', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };
  async function gql(query, variables) {
    const headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    let res;
    try {
      res = await fetch('/graphql', { method: 'POST', headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }) });
    } catch (e) {
      throw new GqlError('UNAVAILABLE', String(e));
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    // GraphQL's errors[0] (extensions.code), or the {"error": {code,
    // message}} of what stands in front of the API (the rate limiter).
    const e = body && (body.errors && body.errors.length ? body.errors[0] : body.error);
    if (e || !res.ok || !body || !body.data) {
      const code = (e && ((e.extensions && e.extensions.code) || e.code)) || STATUS_CODE[res.status] || (body ? 'INTERNAL' : 'UNAVAILABLE');
      // A rate limit (429 with Retry-After): retry in that many seconds.
      const ra = res.status === 429 ? parseInt(res.headers.get('Retry-After') || '', 10) : NaN;
      throw new GqlError(code, (e && e.message) || 'HTTP ' + res.status, isNaN(ra) ? undefined : ra);
    }
    return body.data;
  }
  function refusal(err) {
    const code = err && err.code ? err.code : 'INTERNAL';
    const box = h('div', { class: 'refusal', role: 'alert', 'data-code': code },
      h('p', { class: 'refusal-title' }, err && err.retryAfter !== undefined ? t('tooMany', err.retryAfter) : I18N[S.lang].refusal[code] || I18N[S.lang].refusal.INTERNAL),
      h('p', { class: 'refusal-detail' }, t('refusalCode') + ': ', h('code', null, code), err && err.message ? ' — ' + err.message : ''));
    if (code === 'UNAUTHENTICATED') box.appendChild(h('p', null, h('a', { href: '#/signin', class: 'button' }, t('goSignin'))));
    return box;
  }

  // ---------- shell ----------
  function renderShell() {
    document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('appName') + ' · craftledger';
    document.getElementById('skip').textContent = t('skip');
    const route = parseHash().path[0] || '';
    const top = document.getElementById('top');
    top.textContent = '';
    const navLink = (name, label) => h('a', { href: href([name]), 'aria-current': route === name ? 'page' : null, id: 'nav-' + name }, label);
    const asOfInput = h('input', { type: 'date', id: 'asof', value: (asOf() || '').slice(0, 10), 'aria-describedby': 'asof-help', max: '9999-12-31',
      onchange: e => setParam('asOf', e.target.value, '#asof') });
    add(top, [
      h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '匠'), h('span', null, t('appName')), h('small', null, 'craftledger')),
      h('nav', { 'aria-label': t('mainNav') }, navLink('worker', t('navWorker')), navLink('hr', t('navHR')), navLink('audit', t('navAudit'))),
      h('div', { class: 'tools' },
        h('label', { for: 'asof', class: 'asof' }, t('asOf'), asOfInput,
          h('span', { id: 'asof-help', class: 'sr-only' }, t('asOfHelp'))),
        asOf() ? h('button', { type: 'button', class: 'link', id: 'asof-clear', onclick: () => setParam('asOf', '', '#asof') }, t('asOfClear')) : null,
        h('button', { type: 'button', id: 'lang', lang: S.lang === 'zh' ? 'en' : 'zh', 'aria-label': t('langSwitchLabel'), onclick: switchLang }, t('langSwitch')),
        S.viewer
          ? h('span', { class: 'who', id: 'who' }, h('span', { class: 'sr-only' }, t('signedInAs') + ' '),
            tk('roles', S.viewer.role), ' · ', S.viewer.craftsmanId || S.viewer.organisationId || S.viewer.subject,
            h('button', { type: 'button', class: 'link', id: 'signout', onclick: signOut }, t('signOut')))
          : h('a', { href: '#/signin', id: 'signin-link' }, t('signIn')))
    ]);
  }
  // setParam changes one parameter of the route. refocus (a selector):
  // the control that made the change, focused again once the view is
  // rebuilt (a filter is not a navigation: the focus stays where it was).
  function setParam(k, v, refocus) {
    const { path, q } = parseHash();
    q.delete('focus'); // a link's target, focused once
    if (v) q.set(k, v); else q.delete(k);
    const qs = q.toString();
    const next = '#/' + path.map(encodeURIComponent).join('/') + (qs ? '?' + qs : '');
    if (next === location.hash) return;
    S.refocus = refocus || null;
    location.hash = next;
  }
  function switchLang() {
    S.lang = S.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('craftledger.lang', S.lang);
    route();
    document.getElementById('lang').focus();
  }
  function signOut() {
    S.token = ''; S.viewer = null;
    sessionStorage.removeItem('craftledger.token');
    go(['signin']);
  }
  function main() {
    const m = document.getElementById('main');
    m.textContent = '';
    const a = asOf();
    const day = a && /^\d{4}-\d\d-\d\d$/.test(a);
    if (a) m.appendChild(h('p', { class: 'asof-banner', id: 'asof-banner' }, day ? t('asOfBanner', fmtDate(a + 'T00:00:00Z')) : t('asOfBannerTime', fmtDateTime(a))));
    return m;
  }
  function loading(into) {
    const p = h('p', { class: 'loading', 'aria-busy': 'true' }, t('loading'));
    into.appendChild(p);
    return p;
  }

  async function route() {
    const seq = ++S.seq;
    const { path, q, bad } = parseHash();
    let viewerErr = null;
    if (S.token && !S.viewer) {
      // Only a refused token signs out; any other failure (a rate limit,
      // the server away) is shown, and the next view asks again.
      try { S.viewer = (await gql('{ viewer { subject role organisationId craftsmanId canAudit } }')).viewer; } catch (e) { S.viewer = null; if (e.code !== 'UNAUTHENTICATED') viewerErr = e; }
      if (seq !== S.seq) return;
    }
    renderShell();
    const view = viewerErr || bad ? 'error' : path[0] || (S.token ? defaultView() : 'signin');
    const started = performance.now();
    try {
      if (viewerErr) throw viewerErr;
      if (bad) throw new GqlError('INVALID_ARGUMENT', t('badAddress', bad));
      switch (view) {
        case 'signin': await viewSignin(seq); break;
        case 'worker': await viewWorker(seq, path[1] || (S.viewer && S.viewer.craftsmanId) || '', q); break;
        case 'hr': await viewHR(seq, q); break;
        case 'audit': await viewAudit(seq, q); break;
        default: go([defaultView()]); return;
      }
    } catch (e) {
      // A refusal replaces the view, under the view's heading.
      if (seq === S.seq) add(main(), [h('h1', null, t(VIEW_TITLES[view] || 'refusedTitle')), refusal(e)]);
    }
    if (seq === S.seq) {
      pub.renders.push({ view: view, ms: performance.now() - started });
      document.body.dataset.view = view;
      document.body.dataset.ready = String(seq);
    }
  }
  const VIEW_TITLES = { signin: 'signinTitle', worker: 'workerTitle', hr: 'hrTitle', audit: 'auditTitle' };
  function defaultView() {
    if (!S.viewer) return 'signin';
    if (S.viewer.role === 'worker') return 'worker';
    if (S.viewer.canAudit) return 'audit';
    return 'hr';
  }

  // ---------- sign-in ----------
  async function viewSignin(seq) {
    const m = main();
    const err = h('div', { id: 'signin-error' });
    const ta = h('textarea', { id: 'token', rows: 4, placeholder: t('tokenPlaceholder'), autocomplete: 'off', spellcheck: 'false', required: true });
    const form = h('form', { class: 'card', id: 'signin-form', onsubmit: e => { e.preventDefault(); signIn(ta.value.trim(), err); } },
      h('label', { for: 'token' }, t('tokenLabel')), ta,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('signinButton'))));
    const demo = h('section', { class: 'card', 'aria-labelledby': 'demo-h' }, h('h2', { id: 'demo-h' }, t('demoTitle')));
    add(m, [h('h1', null, t('signinTitle')), h('p', null, t('signinIntro')), err, form, demo]);
    let tokens = [];
    try {
      const r = await fetch('demo-tokens.json', { headers: { Accept: 'application/json' } });
      if (r.ok) tokens = await r.json();
    } catch (e) { tokens = []; }
    if (seq !== S.seq) return;
    if (!tokens.length) { demo.appendChild(h('p', { class: 'muted' }, t('demoNone'))); return; }
    const list = h('ul', { class: 'demo' });
    tokens.forEach(d => list.appendChild(h('li', null, h('button', { type: 'button', class: 'demo-role', 'data-role': d.role, onclick: () => signIn(d.token, err) },
      t('demoAs', tk('roles', d.role)), h('small', null, d.craftsmanId || d.organisationId || d.subject)))));
    demo.appendChild(list);
  }
  async function signIn(token, errBox) {
    errBox.textContent = '';
    if (!token) { errBox.appendChild(refusal({ code: 'INVALID_ARGUMENT', message: t('tokenEmpty') })); return; }
    const old = S.token;
    S.token = token;
    try {
      S.viewer = (await gql('{ viewer { subject role organisationId craftsmanId canAudit } }')).viewer;
    } catch (e) {
      S.token = old;
      errBox.appendChild(refusal(e));
      return;
    }
    sessionStorage.setItem('craftledger.token', token);
    go([defaultView()]);
  }

  // ---------- catalogue ----------
  async function catalogue() {
    if (S.levels.length) return;
    const d = await gql('{ levels { rank api zh en } trades { code name } academies { id name region } }');
    S.levels = d.levels; S.trades = d.trades; S.academies = d.academies;
  }

  // ---------- worker view ----------
  const LEVEL = 'rank api zh en';
  const WORKER_Q = `query Worker($id: ID!, $asOf: String) { craftsman(id: $id, asOf: $asOf) {
    id name personalData erased region birthDate asOf employers
    trades { trade { code name } level { ${LEVEL} } since }
    training { totalHours count byYear { year hours count } }
    certificates { number } competitions { competitionId } honours { honourId withdrawn } innovations { innovationId }
    mentorshipsAsMaster { id } mentorshipsAsApprentice { id }
    pathways { trade current { ${LEVEL} } yearsOfWork
      reached { level { ${LEVEL} } since via certificateNumber }
      next { target { ${LEVEL} } held { ${LEVEL} } eligible alreadyHeld policy policyVersion reason earliestDate
        routes { id label met missing earliestDate
          criteria { kind label required actual met earliestDate of { kind label required actual met earliestDate } } } } } } }`;
  const TIMELINE_Q = `query Timeline($id: ID!, $asOf: String, $kinds: [String!], $trade: String, $after: String, $lang: String) { craftsman(id: $id, asOf: $asOf) {
    timeline(first: 100, after: $after, kinds: $kinds, trade: $trade) { totalCount
      edges { node { date recordedAt kind type title(lang: $lang) trade { code name } issuer supersedes supersededBy withdrawnBy evidence { stream revision eventId } } }
      pageInfo { hasNextPage endCursor } } } }`;
  const KINDS = ['training', 'assessment', 'certificate', 'competition', 'mentorship', 'honour', 'innovation', 'correction', 'employment', 'education', 'title', 'trade', 'entitlement', 'appointment', 'registration', 'profile', 'erasure'];

  async function viewWorker(seq, id, q) {
    const m = main();
    m.appendChild(h('h1', null, t('workerTitle')));
    const canPick = !S.viewer || S.viewer.role !== 'worker';
    if (canPick) {
      const inp = h('input', { id: 'craftsman-id', name: 'id', value: id, required: true, autocomplete: 'off', 'aria-describedby': 'pick-help' });
      m.appendChild(h('form', { class: 'toolbar', id: 'pick', onsubmit: e => { e.preventDefault(); if (inp.value.trim()) go(['worker', inp.value.trim()]); } },
        h('label', { for: 'craftsman-id' }, t('craftsmanId')), inp, h('button', { type: 'submit' }, t('show')),
        h('span', { id: 'pick-help', class: 'muted' }, t('workerPickHelp'))));
    }
    if (!id) return;
    const wait = loading(m);
    const kinds = (q.get('kinds') || '').split(',').filter(Boolean);
    const trade = q.get('trade') || undefined;
    const [d, tl] = await Promise.all([
      gql(WORKER_Q, { id: id, asOf: asOf() }),
      fetchTimeline(id, kinds, trade)
    ]);
    if (seq !== S.seq) return;
    const r0 = performance.now(); // DOM work only, after the answers arrived
    wait.remove();
    const c = d.craftsman;
    // Profile and tiles.
    const mentor = c.mentorshipsAsMaster.length + c.mentorshipsAsApprentice.length;
    add(m, h('section', { class: 'card profile', 'aria-labelledby': 'profile-h' },
      // The name as memberName gives it (erased, sealed), then the id, once.
      h('h2', { id: 'profile-h' }, c.erased ? h('span', { class: 'badge warn', id: 'erased' }, t('erased'))
        : memberName(c) !== '—' ? memberName(c) : null, ' ', h('small', { class: 'muted' }, c.id)),
      h('dl', { class: 'facts' },
        h('dt', null, t('region')), h('dd', null, c.region || '—'),
        h('dt', null, t('birthDate')), h('dd', null, c.birthDate ? fmtDate(c.birthDate + 'T00:00:00Z') : '—'),
        h('dt', null, t('employers')), h('dd', null, c.employers.join('、') || '—')),
      h('ul', { class: 'tiles' },
        tile(fmtNum(c.training.totalHours), t('tiles.hours')), tile(fmtNum(c.certificates.length, 0), t('tiles.certificates')),
        tile(fmtNum(c.competitions.length, 0), t('tiles.competitions')), tile(fmtNum(c.honours.filter(x => !x.withdrawn).length, 0), t('tiles.honours')),
        tile(fmtNum(c.innovations.length, 0), t('tiles.innovations')), tile(fmtNum(mentor, 0), t('tiles.mentorships'))),
      S.viewer && S.viewer.canAudit ? h('p', null, h('a', { href: href(['audit'], { stream: 'craftsman-' + c.id }) }, t('auditLink'))) : null));
    // Current levels.
    const lv = h('section', { class: 'card', 'aria-labelledby': 'levels-h', id: 'levels' }, h('h2', { id: 'levels-h' }, t('levelsTitle')));
    const ul = h('ul', { class: 'levels' });
    c.trades.forEach(tr => ul.appendChild(h('li', { 'data-trade': tr.trade.code },
      h('span', { class: 'trade' }, tradeName(tr.trade)), h('strong', { class: 'level rank' + tr.level.rank }, levelName(tr.level)),
      h('span', { class: 'muted' }, t('since', fmtDate(tr.since))))));
    if (!c.trades.length) ul.appendChild(h('li', { class: 'muted' }, t('none')));
    lv.appendChild(ul);
    m.appendChild(lv);
    // Next level per trade.
    const nx = h('section', { class: 'card', 'aria-labelledby': 'next-h', id: 'next' }, h('h2', { id: 'next-h' }, t('nextTitle')));
    c.pathways.forEach(p => nx.appendChild(nextLevel(p, c.trades.map(x => x.trade))));
    if (!c.pathways.length) nx.appendChild(h('p', { class: 'muted' }, t('noNext')));
    m.appendChild(nx);
    // Charts.
    const charts = h('section', { class: 'charts', 'aria-label': t('chartHours') + ' · ' + t('chartLevels') });
    const hoursFig = h('figure', { class: 'card', id: 'chart-hours' }, h('figcaption', null, t('chartHours')));
    if (c.training.byYear.length) {
      const ys = c.training.byYear, first = ys[0].year, last = ys[ys.length - 1].year, by = {};
      ys.forEach(y => { by[y.year] = y.hours; });
      const bars = [];
      for (let y = first; y <= last; y++) bars.push({ label: String(y), value: by[y] || 0 });
      hoursFig.appendChild(CH.barChart(bars, { label: t('chartHours'), fmt: n => fmtNum(n) }));
    } else hoursFig.appendChild(h('p', { class: 'muted' }, t('chartEmpty')));
    const lvFig = h('figure', { class: 'card', id: 'chart-levels' }, h('figcaption', null, t('chartLevels')));
    const series = c.pathways.filter(p => p.reached.length).map(p => ({
      name: tradeName(c.trades.map(x => x.trade).find(x => x.code === p.trade) || { code: p.trade }),
      points: p.reached.map(r => ({ t: new Date(r.since), rank: r.level.rank }))
    }));
    if (series.length) lvFig.appendChild(CH.stepChart(series, { label: t('chartLevels'), levelName: r => levelName(r).replace(/（.*）|\s*\(.*\)/, ''), dateFmt: fmtDate,
      now: c.asOf ? new Date(c.asOf) : new Date() }));
    else lvFig.appendChild(h('p', { class: 'muted' }, t('chartEmpty')));
    add(charts, [hoursFig, lvFig]);
    m.appendChild(charts);
    // Timeline.
    m.appendChild(timelineSection(c, tl, kinds, trade));
    announce(tn('entries', tl.entries.length));
    const focus = q.get('focus'), target = focus && document.getElementById('ev-' + focus);
    if (target) flashFocus(target);
    void document.body.offsetHeight; // force style and layout, so the figure includes them
    pub.workerDomMs = performance.now() - r0;
  }
  function tile(v, label) { return h('li', null, h('strong', null, v), h('span', null, label)); }

  async function fetchTimeline(id, kinds, trade) {
    let after, entries = [], total = 0;
    for (;;) {
      const d = await gql(TIMELINE_Q, { id: id, asOf: asOf(), kinds: kinds.length ? kinds : undefined, trade: trade, after: after, lang: S.lang });
      const c = d.craftsman.timeline;
      total = c.totalCount;
      c.edges.forEach(e => entries.push(e.node));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    return { entries: entries, total: total };
  }

  function progressOf(cr) {
    if (cr.met) return 1;
    const num = s => { const m = /(\d+(?:\.\d+)?)/.exec(s || ''); return m ? parseFloat(m[1]) : NaN; };
    let m = /\((\d+) days\) of (\d+) days needed/.exec(cr.actual);
    if (m) return Math.min(1, +m[1] / +m[2]);
    m = /(\d+) of (\d+) hold/.exec(cr.actual);
    if (m) return Math.min(1, +m[1] / +m[2]);
    const unit = /(years|hours|apprentices)/.exec(cr.required);
    if (unit) {
      const req = num((/≥\s*([\d.]+)/.exec(cr.required) || [])[1]);
      const re = new RegExp('([\\d.]+) ' + unit[1]);
      const act = num((re.exec(cr.actual) || [])[1]);
      if (req > 0 && !isNaN(act)) return Math.min(1, act / req);
    }
    return 0;
  }
  function nextLevel(p, known) {
    const box = h('div', { class: 'next', 'data-trade': p.trade });
    const tradeObj = known.find(x => x.code === p.trade) || { code: p.trade };
    const n = p.next[0];
    box.appendChild(h('h3', null, tradeName(tradeObj), ': ', n ? t('nextTarget', levelName(p.current), levelName(n.target)) : levelName(p.current)));
    box.appendChild(h('p', { class: 'muted' }, t('yearsOfWork', fmtNum(p.yearsOfWork, 1))));
    if (!n) { box.appendChild(h('p', { class: 'muted' }, t('noNext'))); return box; }
    let verdict;
    if (n.eligible) verdict = h('p', { class: 'verdict ok' }, '✓ ', t('eligibleNow'));
    else if (n.earliestDate) verdict = h('p', { class: 'verdict soon' }, '⏳ ', t('projected', fmtDate(n.earliestDate)));
    else verdict = h('p', { class: 'verdict open' }, t('notYet'));
    verdict.classList.add('projection');
    box.appendChild(verdict);
    box.appendChild(h('p', { class: 'muted small' }, t('policyUsed', n.policy, n.policyVersion), n.reason ? ' — ' + n.reason : ''));
    // Routes: met first, then the closest.
    const routes = n.routes.slice().sort((a, b) => (b.met - a.met) || (score(b) - score(a)));
    routes.forEach((r, i) => {
      const det = h('details', { class: 'route' + (r.met ? ' met' : ''), open: i === 0 ? true : null });
      det.appendChild(h('summary', null, h('span', { class: 'badge ' + (r.met ? 'ok' : 'open') }, r.met ? t('routeMet') : t('routeOpen')), ' ', t('routeTitle'), ' ', bilingual(r.label) || r.id,
        r.earliestDate && !r.met ? h('span', { class: 'muted' }, ' · ', t('criterionDate', fmtDate(r.earliestDate))) : null));
      const list = h('ul', { class: 'criteria' });
      r.criteria.forEach(cr => list.appendChild(criterion(cr)));
      det.appendChild(list);
      box.appendChild(det);
    });
    return box;
  }
  function score(r) { return r.criteria.reduce((s, c) => s + progressOf(c), 0) / Math.max(1, r.criteria.length); }
  function criterion(cr) {
    const pct = Math.round(progressOf(cr) * 100);
    const li = h('li', { class: cr.met ? 'met' : 'open' },
      h('div', { class: 'crit-head' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, cr.met ? '✓' : '○'),
        h('strong', null, tk('criterionKinds', cr.kind)), h('span', { class: 'sr-only' }, cr.met ? t('routeMet') : t('routeOpen'))),
      h('div', { class: 'crit-body', title: S.lang === 'zh' ? cr.required + ' · ' + cr.actual : null },
        h('span', null, critText(cr.required)), h('span', { class: 'muted' }, ' · ', critText(cr.actual)),
        cr.earliestDate && !cr.met ? h('span', { class: 'soon' }, ' · ', t('criterionDate', fmtDate(cr.earliestDate))) : null),
      h('progress', { max: 100, value: pct, 'aria-label': tk('criterionKinds', cr.kind) + ' ' + pct + '%' }, pct + '%'));
    if (cr.of && cr.of.length) {
      const sub = h('ul', { class: 'criteria sub' });
      cr.of.forEach(x => sub.appendChild(criterion(Object.assign({ of: [] }, x))));
      li.appendChild(sub);
    }
    return li;
  }

  function timelineSection(c, tl, kinds, trade) {
    const sec = h('section', { class: 'card', 'aria-labelledby': 'tl-h', id: 'timeline' }, h('h2', { id: 'tl-h' }, t('timelineTitle'), ' ',
      h('small', { class: 'muted', id: 'tl-count' }, tn('entries', tl.total))));
    // Filters.
    const chips = h('fieldset', { class: 'chips', id: 'kind-filter' }, h('legend', null, t('filterKind')));
    const setKinds = (ks, chip) => setParam('kinds', ks.join(','), '#kind-filter [data-kind="' + chip + '"]');
    chips.appendChild(h('button', { type: 'button', class: 'chip', 'aria-pressed': String(!kinds.length), 'data-kind': '', onclick: () => setKinds([], '') }, t('allKinds')));
    KINDS.forEach(k => chips.appendChild(h('button', { type: 'button', class: 'chip kind-' + k, 'aria-pressed': String(kinds.includes(k)), 'data-kind': k,
      onclick: () => setKinds(kinds.includes(k) ? kinds.filter(x => x !== k) : kinds.concat([k]), k) }, tk('kinds', k))));
    const trades = {};
    c.trades.forEach(x => { trades[x.trade.code] = x.trade; });
    tl.entries.forEach(e => { if (e.trade && !trades[e.trade.code]) trades[e.trade.code] = e.trade; });
    if (trade && !trades[trade]) trades[trade] = { code: trade };
    const sel = h('select', { id: 'trade-filter', onchange: e => setParam('trade', e.target.value, '#trade-filter') }, h('option', { value: '' }, t('allTrades')));
    Object.values(trades).forEach(x => sel.appendChild(h('option', { value: x.code, selected: x.code === trade ? true : null }, tradeName(x))));
    sec.appendChild(h('div', { class: 'filters' }, chips, h('div', { class: 'field' }, h('label', { for: 'trade-filter' }, t('filterTrade')), sel)));
    // Corrections (supersededBy / supersedes): a jump when the other entry
    // is on the page, else (a filter hides it) a link to the whole record
    // focusing it.
    const onPage = new Set(tl.entries.map(e => e.evidence.eventId).filter(Boolean));
    const corrLink = (target, cls, label) => onPage.has(target)
      ? h('a', { class: cls, href: '#', 'data-target': 'ev-' + target, onclick: jump }, label)
      : h('a', { class: cls, href: href(['worker', c.id], { focus: target }), 'data-ref': target }, label);
    // Group by year, newest first.
    const years = new Map();
    for (let i = tl.entries.length - 1; i >= 0; i--) {
      const e = tl.entries[i], y = civilYear(e.date);
      if (!years.has(y)) years.set(y, []);
      years.get(y).push(e);
    }
    const frag = document.createDocumentFragment();
    years.forEach((list, y) => {
      const ol = h('ol', { class: 'entries' });
      list.forEach(e => ol.appendChild(entry(e, corrLink)));
      frag.appendChild(h('section', { class: 'year', 'data-year': y }, h('h3', null, String(y), ' ', h('small', { class: 'muted' }, tn('entries', list.length))), ol));
    });
    const body = h('div', { id: 'tl-body' });
    if (!tl.entries.length) body.appendChild(h('p', { class: 'muted', id: 'tl-empty' }, kinds.length || trade ? t('noEntriesFiltered') : t('noEntries')));
    body.appendChild(frag);
    sec.appendChild(body);
    return sec;
  }
  function entry(e, corrLink) {
    const id = e.evidence.eventId;
    const rec = new Date(e.recordedAt), occ = new Date(e.date);
    const li = h('li', { class: 'entry kind-' + e.kind + (e.supersededBy || e.withdrawnBy ? ' superseded' : ''), id: id ? 'ev-' + id : null, 'data-kind': e.kind, tabindex: '-1' },
      h('time', { datetime: e.date }, fmtDate(e.date)),
      h('span', { class: 'badge kind-' + e.kind }, tk('kinds', e.kind)),
      h('span', { class: 'title' }, e.title),
      e.trade ? h('span', { class: 'trade muted' }, tradeName(e.trade)) : null,
      h('span', { class: 'meta muted' }, e.issuer ? t('issuer') + ': ' + e.issuer : null,
        rec - occ > 31 * 864e5 ? h('span', { class: 'backfill' }, ' · ', t('backfilled', fmtDate(e.recordedAt))) : null));
    if (e.supersededBy) li.appendChild(corrLink(e.supersededBy, 'badge warn corr-link', [t('supersededBy'), ' → ', t('correctedLink')]));
    if (e.supersedes) li.appendChild(corrLink(e.supersedes, 'badge corr-link', t('corrects')));
    // A withdrawn honour: no longer held, shown like a superseded entry.
    if (e.withdrawnBy) li.appendChild(corrLink(e.withdrawnBy, 'badge warn corr-link', [t('withdrawnBy'), ' → ', t('withdrawnLink')]));
    return li;
  }
  function jump(ev) {
    ev.preventDefault();
    const target = document.getElementById(ev.currentTarget.dataset.target);
    if (target) flashFocus(target);
  }
  function flashFocus(target) {
    target.scrollIntoView({ block: 'center' }); target.focus(); target.classList.add('flash'); setTimeout(() => target.classList.remove('flash'), 1500);
  }

  // ---------- HR view ----------
  const HR_Q = `query HR($trade: String, $employer: String, $academy: String, $region: String, $eligibleFor: String, $eligibleBy: String,
      $sort: String, $first: Int, $after: String, $asOf: String) {
    craftsmen(trade: $trade, employer: $employer, academy: $academy, region: $region, eligibleFor: $eligibleFor, eligibleBy: $eligibleBy,
        sort: $sort, first: $first, after: $after, asOf: $asOf) {
      totalCount edges { cursor node { id name personalData erased region employers academies level { ${LEVEL} } eligibility { eligible earliestDate policy policyVersion } eligibleNow eligibleFrom } }
      pageInfo { hasNextPage endCursor } } }`;
  const STATS_Q = `query Stats($trade: String, $employer: String, $academy: String, $region: String, $eligibleFor: String, $eligibleBy: String, $asOf: String) {
    populationStats(trade: $trade, employer: $employer, academy: $academy, region: $region, eligibleFor: $eligibleFor, eligibleBy: $eligibleBy, asOf: $asOf) {
      total byLevel { key count } byRegion { key count } byAcademy { key count } byTrade { key count } } }`;
  const HR_KEYS = ['trade', 'academy', 'employer', 'region', 'eligibleFor', 'eligibleBy', 'sort', 'size'];

  function hrFilters(q) {
    const f = {};
    HR_KEYS.forEach(k => { f[k] = q.get(k) || undefined; });
    f.size = Math.min(100, Math.max(1, parseInt(f.size || '20', 10) || 20));
    f.sort = f.sort || (f.eligibleFor ? 'id' : 'level_desc');
    return f;
  }
  function hrVars(f) {
    return { trade: f.trade, employer: f.employer, academy: f.academy, region: f.region, eligibleFor: f.eligibleFor,
      eligibleBy: f.eligibleFor ? f.eligibleBy : undefined, asOf: asOf() };
  }
  async function viewHR(seq, q) {
    const m = main();
    add(m, [h('h1', null, t('hrTitle')), h('p', { class: 'muted' }, t('hrIntro'))]);
    try { await catalogue(); } catch (e) { /* the query below reports */ }
    if (seq !== S.seq) return;
    const f = hrFilters(q);
    const key = JSON.stringify([f, asOf()]);
    if (S.hr.key !== key) { S.hr = { key: key, cursors: [null], page: 0 }; }
    // Form.
    const sel = (id, label, opts, value) => h('div', { class: 'field' }, h('label', { for: 'f-' + id }, label),
      h('select', { id: 'f-' + id, name: id }, opts.map(o => h('option', { value: o[0], selected: o[0] === (value || '') ? true : null }, o[1]))));
    const inp = (id, label, value, attrs) => h('div', { class: 'field' }, h('label', { for: 'f-' + id }, label),
      h('input', Object.assign({ id: 'f-' + id, name: id, value: value || '' }, attrs || {})));
    const form = h('form', { class: 'card filters-form', id: 'hr-form', onsubmit: e => {
      e.preventDefault();
      const fd = new FormData(e.target), params = {};
      HR_KEYS.forEach(k => { const v = fd.get(k); if (v) params[k] = String(v).trim(); });
      go(['hr'], params);
    } },
    sel('trade', t('trade'), [['', t('any')]].concat(S.trades.map(x => [x.code, tradeName(x)])), f.trade),
    sel('eligibleFor', t('eligibleFor'), [['', t('eligibleAny')]].concat(S.levels.filter(l => l.rank > 0).map(l => [l.api, levelName(l)])), f.eligibleFor),
    inp('eligibleBy', t('eligibleBy'), f.eligibleBy, { type: 'date', 'aria-describedby': 'eby-help' }),
    sel('academy', t('academy'), [['', t('any')]].concat(S.academies.map(a => [a.id, (a.name || a.id)])), f.academy),
    inp('employer', t('employer'), f.employer, { placeholder: S.viewer && S.viewer.role === 'hr' ? S.viewer.organisationId : '', autocomplete: 'off' }),
    inp('region', t('regionF'), f.region, { list: 'regions', autocomplete: 'off' }),
    sel('sort', t('sort'), ['level_desc', 'level_asc', 'id', 'region'].map(s => [s, tk('sorts', s)]), f.sort),
    sel('size', t('pageSize'), [...new Set([10, 20, 50, 100, f.size])].sort((a, b) => a - b).map(s => [String(s), String(s)]), String(f.size)),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, t('search')),
      h('button', { type: 'button', id: 'export', onclick: () => exportCSV(f) }, t('exportCSV'))),
    h('datalist', { id: 'regions' }),
    h('span', { id: 'eby-help', class: 'sr-only' }, t('eligibleByHelp')));
    m.appendChild(form);
    const status = h('p', { id: 'export-status', role: 'status' });
    m.appendChild(status);
    if (f.eligibleFor && !f.trade) { m.appendChild(refusal({ code: 'INVALID_ARGUMENT', message: t('needTrade') })); return; }
    const wait = loading(m);
    const vars = hrVars(f);
    const [d, st] = await Promise.all([
      gql(HR_Q, Object.assign({ sort: f.sort, first: f.size, after: S.hr.cursors[S.hr.page] || undefined }, vars)),
      gql(STATS_Q, vars)
    ]);
    if (seq !== S.seq) return;
    wait.remove();
    const dl = form.querySelector('#regions');
    st.populationStats.byRegion.forEach(r => dl.appendChild(h('option', { value: r.key })));
    const conn = d.craftsmen;
    // Table.
    const sortBtn = (col, label, asc, desc) => {
      const cur = f.sort === asc ? 'ascending' : f.sort === desc ? 'descending' : 'none';
      const next = f.sort === desc && asc ? asc : (desc || asc);
      return h('th', { scope: 'col', 'aria-sort': cur }, h('button', { type: 'button', class: 'sort', 'data-sort': next, 'data-col': col,
        onclick: () => setParam('sort', next, '#hr-table thead button[data-col="' + col + '"]') }, label,
        h('span', { 'aria-hidden': 'true' }, cur === 'ascending' ? ' ▲' : cur === 'descending' ? ' ▼' : ' ↕')));
    };
    const table = h('table', { class: 'grid', id: 'hr-table' },
      h('caption', { class: 'sr-only' }, t('hrTitle')),
      h('thead', null, h('tr', null, sortBtn('id', t('colId'), 'id', null), h('th', { scope: 'col' }, t('colName')), sortBtn('level', t('colLevel'), 'level_asc', 'level_desc'),
        sortBtn('region', t('colRegion'), 'region', null), h('th', { scope: 'col' }, t('colEmployers')), h('th', { scope: 'col' }, t('colAcademies')),
        f.eligibleFor ? h('th', { scope: 'col' }, t('colEligible')) : null)));
    const tb = h('tbody');
    conn.edges.forEach(e => {
      const n = e.node;
      const tr = h('tr', { 'data-id': n.id, class: 'clickable', onclick: ev => { if (ev.target.tagName !== 'A') go(['worker', n.id]); } },
        h('th', { scope: 'row' }, h('a', { href: href(['worker', n.id]), 'aria-label': t('openPathway', n.id) }, n.id)),
        h('td', { class: 'name' + (n.erased ? ' erased' : '') }, memberName(n)),
        h('td', { 'data-rank': n.level.rank }, levelName(n.level)), h('td', null, n.region || '—'),
        h('td', null, n.employers.join('、')), h('td', null, n.academies.map(academyName).join('、')),
        f.eligibleFor ? h('td', { class: 'eligible-from', 'data-now': n.eligibleNow ? 'true' : 'false' },
          n.eligibility && n.eligibility.eligible ? '✓ ' + (n.eligibleNow || !n.eligibleFrom ? t('eligibleNowShort') : t('eligibleFromDate', fmtDate(n.eligibleFrom))) : '—') : null);
      tb.appendChild(tr);
    });
    table.appendChild(tb);
    const res = h('section', { class: 'card', 'aria-labelledby': 'res-h' },
      h('h2', { id: 'res-h' }, h('span', { id: 'hr-total' }, tn('total', conn.totalCount)), ' · ', h('span', { id: 'hr-page' }, t('page', S.hr.page + 1))));
    if (!conn.edges.length) res.appendChild(h('p', { class: 'muted' }, t('noRows')));
    else res.appendChild(h('div', { class: 'scroll' }, table));
    res.appendChild(h('div', { class: 'pager' },
      h('button', { type: 'button', id: 'prev', disabled: S.hr.page === 0 ? true : null, onclick: () => { S.hr.page--; route(); } }, '← ', t('prev')),
      h('button', { type: 'button', id: 'next', disabled: conn.pageInfo.hasNextPage ? null : true, onclick: () => {
        S.hr.cursors[S.hr.page + 1] = conn.pageInfo.endCursor; S.hr.page++; route(); } }, t('next'), ' →')));
    m.appendChild(res);
    // Counts.
    const s = st.populationStats;
    const counts = h('section', { class: 'charts', id: 'counts', 'aria-label': t('countsTitle') });
    const lvBars = S.levels.map(l => ({ label: levelName(l).replace(/（.*）|\s*\(.*\)/, ''), value: (s.byLevel.find(x => x.key === l.api) || { count: 0 }).count, title: levelName(l) }));
    counts.appendChild(h('figure', { class: 'card', id: 'chart-bylevel' }, h('figcaption', null, t('byLevel'), ' · ', tn('total', s.total)),
      CH.barChart(lvBars, { label: t('byLevel'), fmt: n => fmtNum(n, 0) })));
    const list = (title, rows, name) => h('figure', { class: 'card' }, h('figcaption', null, title),
      h('ul', { class: 'countlist' }, rows.slice().sort((a, b) => b.count - a.count).slice(0, 12).map(r =>
        h('li', null, h('span', null, name ? name(r.key) : (r.key || '—')), h('strong', null, fmtNum(r.count, 0))))));
    counts.appendChild(list(t('byRegion'), s.byRegion));
    counts.appendChild(list(t('byAcademy'), s.byAcademy, academyName));
    counts.appendChild(list(t('byTrade'), s.byTrade, k => tradeName({ code: k })));
    m.appendChild(counts);
    announce(tn('total', conn.totalCount));
  }

  // memberName: the name recorded in clear, or what stands in for it
  // (erased, sealed); never a name the server did not give.
  function memberName(n) {
    if (n.erased) return t('erased');
    return n.name || (n.personalData === 'sealed' ? t('sealed') : '—');
  }
  function academyName(id) {
    const a = S.academies.find(x => x.id === id);
    return a && a.name ? a.name : id;
  }
  // csvCell quotes a value for the CSV export. A value a spreadsheet would
  // read as a formula (starting with = + - @, a tab or a carriage return:
  // names and regions are typed in by academies) is prefixed with ' so it
  // stays text.
  function csvCell(v) {
    let s = v == null ? '' : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  pub.csvCell = csvCell;
  pub.critText = x => critText(x);
  async function exportCSV(f) {
    const status = document.getElementById('export-status');
    status.textContent = t('exporting');
    const vars = hrVars(f);
    const rows = [['id', 'level', 'level_' + S.lang, 'region', 'employers', 'academies', 'eligible', 'earliest_date', 'policy', 'name', 'personal_data']];
    let after;
    try {
      for (;;) {
        const d = await gql(HR_Q, Object.assign({ sort: f.sort, first: 100, after: after }, vars));
        d.craftsmen.edges.forEach(e => {
          const n = e.node, el = n.eligibility;
          rows.push([n.id, n.level.api, levelName(n.level), n.region || '', n.employers.join(';'), n.academies.join(';'),
            el ? String(el.eligible) : '', n.eligibleNow ? 'now' : n.eligibleFrom ? n.eligibleFrom.slice(0, 10) : '', el ? el.policy + ' v' + el.policyVersion : '',
            n.erased ? '' : (n.name || ''), n.personalData]);
        });
        if (!d.craftsmen.pageInfo.hasNextPage) break;
        after = d.craftsmen.pageInfo.endCursor;
      }
    } catch (e) {
      status.textContent = '';
      status.appendChild(refusal(e));
      return;
    }
    const text = rows.map(r => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
    const name = 'craftledger-' + [f.trade, f.eligibleFor, f.eligibleBy || asOf()].filter(Boolean).join('-') + (f.trade || f.eligibleFor ? '' : 'population') + '.csv';
    pub.lastExport = { filename: name, text: text, rows: rows.length - 1 };
    const url = URL.createObjectURL(new Blob(['\uFEFF' + text], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: name, class: 'sr-only' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = tn('exported', rows.length - 1);
  }

  // ---------- audit view ----------
  const AUDIT_Q = `query Audit($stream: String, $category: String, $asOf: String, $first: Int, $after: String) {
    audit(stream: $stream, category: $category, asOf: $asOf, first: $first, after: $after) { totalCount
      edges { cursor node { stream id type revision position recordedAt occurredAt issuer actingUser correlationId causationId source data metadata chain
        supersedes { id found stream cursor } supersededBy { id found stream cursor } } }
      pageInfo { hasNextPage endCursor } } }`;

  async function viewAudit(seq, q) {
    const m = main();
    add(m, [h('h1', null, t('auditTitle')), h('p', { class: 'muted' }, t('auditIntro'))]);
    const f = { stream: q.get('stream') || undefined, category: q.get('category') || undefined };
    // at: a cursor to start from (a link to a corrected event or a
    // correction on another page); focus: the event to focus there.
    const at = q.get('at') || null, focus = q.get('focus');
    const key = JSON.stringify([f, asOf(), at]);
    if (S.audit.key !== key) S.audit = { key: key, cursors: [at], page: 0 };
    const streamIn = h('input', { id: 'a-stream', name: 'stream', value: f.stream || '', autocomplete: 'off', 'aria-describedby': 'a-stream-help' });
    const catSel = h('select', { id: 'a-category', name: 'category' }, h('option', { value: '' }, t('allCategories')),
      ['craftsman', 'academy', 'competition', 'mentorship', 'policy'].map(c => h('option', { value: c, selected: c === f.category ? true : null }, tk('categories', c))));
    m.appendChild(h('form', { class: 'card filters-form', id: 'audit-form', onsubmit: e => {
      e.preventDefault();
      go(['audit'], { stream: streamIn.value.trim(), category: catSel.value });
    } },
    h('div', { class: 'field grow' }, h('label', { for: 'a-stream' }, t('stream')), streamIn, h('small', { id: 'a-stream-help', class: 'muted' }, t('streamHelp'))),
    h('div', { class: 'field' }, h('label', { for: 'a-category' }, t('category')), catSel),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, t('search')))));
    const wait = loading(m);
    const d = await gql(AUDIT_Q, { stream: f.stream, category: f.stream ? undefined : f.category, asOf: asOf(), first: 50, after: S.audit.cursors[S.audit.page] || undefined });
    if (seq !== S.seq) return;
    const conn = d.audit;
    const nodes = conn.edges.map(e => e.node);
    // Hash-chain status of every stream on the page (one request, aliased).
    const streams = [...new Set(nodes.map(n => n.stream))];
    let integrity = {};
    if (streams.length) {
      // As of the view's moment: each stream judged on its events recorded by then.
      const decl = streams.map((s, i) => '$s' + i + ': String!').join(', ') + ', $asOf: String';
      const sel = streams.map((s, i) => 's' + i + ': streamIntegrity(stream: $s' + i + ', asOf: $asOf) { stream events status breakAt reason unchained }').join(' ');
      const vars = { asOf: asOf() };
      streams.forEach((s, i) => { vars['s' + i] = s; });
      try {
        const r = await gql('query Integrity(' + decl + ') { ' + sel + ' }', vars);
        Object.values(r).forEach(x => { integrity[x.stream] = x; });
      } catch (e) { integrity = { error: e }; }
      if (seq !== S.seq) return;
    }
    wait.remove();
    // Corrections, linked by the server (audit supersedes / supersededBy):
    // on this page a jump, on another page a link to it.
    const onPage = new Set(nodes.map(n => n.id));
    const refLink = (ref, cls, label) => onPage.has(ref.id)
      ? h('a', { class: cls, href: '#', 'data-target': 'ev-' + ref.id, onclick: jump }, label)
      : ref.found
        ? h('a', { class: cls, href: href(['audit'], { stream: ref.stream, at: ref.cursor || '', focus: ref.id }), 'data-ref': ref.id }, label)
        : h('span', { class: 'badge' }, label);
    const chainSec = h('section', { class: 'card', id: 'chains', 'aria-labelledby': 'chains-h' }, h('h2', { id: 'chains-h' }, t('chainTitle')));
    if (integrity.error) chainSec.appendChild(refusal(integrity.error));
    else {
      const ul = h('ul', { class: 'chainlist' });
      streams.forEach(s => {
        const x = integrity[s] || { status: 'unknown', events: 0 };
        ul.appendChild(h('li', { 'data-stream': s, 'data-status': x.status, 'data-events': String(x.events) },
          h('span', { class: 'badge chain-' + x.status }, x.status === 'ok' ? '✓ ' : x.status === 'broken' ? '✗ ' : '', tk('chain', x.status)),
          h('a', { href: href(['audit'], { stream: s }) }, s), h('span', { class: 'muted' }, ' · ', tn('eventsN', x.events),
            x.status === 'broken' ? ' · ' + t('breakAt', x.breakAt) + (x.reason ? ' (' + x.reason + ')' : '') : '')));
      });
      chainSec.appendChild(ul);
    }
    m.appendChild(chainSec);
    const table = h('table', { class: 'grid audit', id: 'audit-table' }, h('caption', { class: 'sr-only' }, t('auditTitle')),
      h('thead', null, h('tr', null, [t('colPosition'), t('colRecorded'), t('colOccurred'), t('colStream'), t('colType'), t('colIssuer'), t('colSource'), t('colChain'), t('details')]
        .map(x => h('th', { scope: 'col' }, x)))));
    const tb = h('tbody');
    nodes.forEach((n, i) => {
      const detId = 'det-' + i;
      const det = h('tr', { class: 'detail', id: detId, hidden: true }, h('td', { colspan: 9 },
        h('div', { class: 'json' }, h('h4', null, t('data')), h('pre', null, pretty(n.data)), h('h4', null, t('metadata')), h('pre', null, pretty(n.metadata)))));
      const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': detId, onclick: e => {
        det.hidden = !det.hidden; e.currentTarget.setAttribute('aria-expanded', String(!det.hidden)); } }, t('details'));
      const typeCell = h('td', null, h('code', null, n.type));
      if (n.supersedes) typeCell.appendChild(refLink(n.supersedes, 'badge corr-link', t('correctionOf', n.supersedes.id.slice(0, 8))));
      if (n.supersededBy) typeCell.appendChild(refLink(n.supersededBy, 'badge warn corr-link', t('correctedBy', n.supersededBy.id.slice(0, 8))));
      tb.appendChild(h('tr', { id: 'ev-' + n.id, tabindex: '-1', 'data-type': n.type, class: n.supersededBy ? 'superseded' : null },
        h('td', { class: 'nowrap' }, h('code', null, n.position)), h('td', { class: 'nowrap' }, fmtDateTime(n.recordedAt)), h('td', null, n.occurredAt ? fmtDate(n.occurredAt) : '—'),
        h('td', null, h('code', null, n.stream + '@' + n.revision)), typeCell,
        h('td', null, n.issuer || '—', h('br'), h('small', { class: 'muted' }, n.actingUser || '')),
        h('td', null, n.source ? tk('sources', n.source) : '—'), h('td', null, h('span', { class: 'badge chain-' + n.chain }, tk('chain', n.chain))), h('td', null, toggle)));
      tb.appendChild(det);
    });
    table.appendChild(tb);
    const res = h('section', { class: 'card', 'aria-labelledby': 'ares-h' },
      h('h2', { id: 'ares-h' }, h('span', { id: 'audit-total' }, tn('events', conn.totalCount)), ' · ', at ? t('pageFromLinked', S.audit.page + 1) : t('page', S.audit.page + 1)),
      h('div', { class: 'scroll' }, table),
      h('div', { class: 'pager' },
        // Opened at a linked event (at): the pages before it are reached
        // from the start of the same selection.
        at ? h('a', { id: 'afirst', class: 'button', href: href(['audit'], { stream: f.stream, category: f.category }) }, '⇤ ', t('fromStart')) : null,
        h('button', { type: 'button', id: 'aprev', disabled: S.audit.page === 0 ? true : null, onclick: () => { S.audit.page--; route(); } }, '← ', t('prev')),
        h('button', { type: 'button', id: 'anext', disabled: conn.pageInfo.hasNextPage ? null : true, onclick: () => {
          S.audit.cursors[S.audit.page + 1] = conn.pageInfo.endCursor; S.audit.page++; route(); } }, t('next'), ' →')));
    m.appendChild(res);
    announce(tn('events', conn.totalCount));
    const target = focus && document.getElementById('ev-' + focus);
    if (target) flashFocus(target);
  }
  function pretty(s) {
    if (s == null) return '—';
    try { return JSON.stringify(JSON.parse(s), null, 2); } catch (e) { return s; }
  }

  // Only "#/…" is a route. Another hash (the skip link's #main, a typed
  // #main) moves the focus to that element and puts the route back
  // unchanged: no view is built again, no filter lost.
  let routeHash = location.hash;
  function focusContent() { document.getElementById('main').focus({ preventScroll: true }); }
  document.getElementById('skip').addEventListener('click', e => { e.preventDefault(); focusContent(); });
  window.addEventListener('hashchange', () => {
    if (location.hash && !location.hash.startsWith('#/')) {
      let target = null;
      try { target = document.getElementById(decodeURIComponent(location.hash.slice(1))); } catch (e) { target = null; }
      history.replaceState(null, '', routeHash || location.pathname + location.search);
      if (target) { if (target.tabIndex < 0 && !target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1'); target.focus(); }
      return;
    }
    routeHash = location.hash;
    const again = S.refocus;
    S.refocus = null;
    const seq = S.seq + 1; // the render this change starts
    route().then(() => {
      const el = again && seq === S.seq && document.querySelector(again);
      if (el) el.focus();
    });
    if (!again) focusContent();
  });
  catalogue().catch(() => {}).then(route);
})();
