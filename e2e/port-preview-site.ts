// The site e2e/port-preview.spec.ts serves from a container (busybox httpd, CGI in cgi-bin/): relative and
// root-relative assets, links and forms, a JSON API it fetches, a form post counter, and a page that tries to
// reach the app's storage and page and reports what it got. Shipped as one shell script dropped on the terminal.

/** A 1x1 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** What the app page stores before a preview runs, and the steal page looks for. */
export const APP_SECRET = { localStorageKey: 'tabdock-e2e-secret', opfsFile: 'tabdock-e2e-secret.txt', value: 'app-only' };

const FILES: Record<string, string> = {
  'index.html': `<!doctype html><html><head><title>preview e2e</title>
<link rel="stylesheet" href="style.css"><link rel="stylesheet" href="/root.css"></head><body>
<h1 id="title">before js</h1><h2 id="sub">root-relative css</h2><p id="root-js">root js pending</p><p id="api">api pending</p>
<img id="dot" src="img/dot.png" alt="dot">
<p><a id="rel" href="page2.html">page two (relative)</a> <a id="abs" href="/page2.html">page two (root-relative)</a> <a id="steal" href="steal.html">steal</a></p>
<form id="get" action="page2.html" method="get"><input name="q" value="hello"><button id="search">Search</button></form>
<form id="post" action="/cgi-bin/echo" method="post"><input name="msg" value="posted from the preview"><button id="send">Send</button></form>
<script src="app.js"></script><script src="/root.js"></script></body></html>
`,
  'style.css': 'h1 { color: rgb(1, 2, 3); }\n',
  'root.css': 'h2 { color: rgb(4, 5, 6); }\n',
  'app.js': `document.getElementById('title').textContent = 'js ran';
Promise.all([fetch('cgi-bin/api?via=relative').then((r) => r.json()), fetch('/cgi-bin/api?via=root').then((r) => r.json())])
  .then((answers) => { document.getElementById('api').textContent = answers.map((a) => a.via + ':' + a.method).join('|'); })
  .catch((error) => { document.getElementById('api').textContent = 'api failed: ' + error; });
`,
  'root.js': "document.getElementById('root-js').textContent = 'root js ran';\n",
  'page2.html': `<!doctype html><html><head><title>page two</title></head><body><h1 id="p2">page two</h1>
<p id="q"></p><a id="home" href="/">Home</a>
<script>document.getElementById('q').textContent = new URLSearchParams(location.search).get('q') || 'no query';</script></body></html>
`,
  'steal.html': `<!doctype html><html><head><title>steal</title></head><body><pre id="report">running</pre><script src="steal.js"></script></body></html>
`,
  // Everything a page served by a container could try against the app: its storage, its page, its opener, and
  // ports it was not opened for (the Engine API's among them).
  'steal.js': `(async () => {
  const report = { origin: location.origin };
  const attempt = async (name, run) => { try { report[name] = await run(); } catch (error) { report[name] = 'blocked: ' + error.name; } };
  await attempt('appSecret', () => localStorage.getItem('${APP_SECRET.localStorageKey}'));
  await attempt('localStorageKeys', () => Object.keys(localStorage));
  await attempt('opfs', async () => { const names = []; for await (const [name] of (await navigator.storage.getDirectory()).entries()) names.push(name); return names; });
  await attempt('topOrigin', () => top.location.origin);
  await attempt('terminal', () => (top.document.querySelector('#terminal') ? 'reachable' : 'absent'));
  await attempt('opener', () => (top.opener === null ? 'none' : 'reachable'));
  for (const port of [2375, 9999]) {
    await attempt('port' + port, async () => { const r = await fetch(new URL('../' + port + '/', location.href)); return r.status + ' ' + r.headers.get('x-tabdock-preview-error'); });
  }
  document.getElementById('report').textContent = JSON.stringify(report);
})();
`,
  'cgi-bin/api': `#!/bin/sh
printf 'Content-Type: application/json\\r\\n\\r\\n{"via":"%s","method":"%s","posts":%s}\\n' "\${QUERY_STRING#via=}" "$REQUEST_METHOD" "$(cat /tmp/posts 2>/dev/null || echo 0)"
`,
  'cgi-bin/echo': `#!/bin/sh
body=$(head -c "\${CONTENT_LENGTH:-0}")
n=$(($(cat /tmp/posts 2>/dev/null || echo 0) + 1)); echo "$n" > /tmp/posts
printf 'Content-Type: text/html\\r\\n\\r\\n<!doctype html><title>echo</title><p id="echo">%s %s</p>\\n' "$REQUEST_METHOD" "$body"
`,
};

/** A shell script that writes the site into /tmp/site and copies it into the container `web`'s docroot. */
export function siteScript(): string {
  const lines = ['set -e', 'rm -rf /tmp/site && mkdir -p /tmp/site/img /tmp/site/cgi-bin && cd /tmp/site'];
  for (const [name, text] of Object.entries(FILES)) lines.push(`cat > ${name} <<'TABDOCK_E2E_EOF'`, text.replace(/\n$/, ''), 'TABDOCK_E2E_EOF');
  lines.push(`echo ${PNG_BASE64} | base64 -d > img/dot.png`, 'chmod +x cgi-bin/*', 'docker cp /tmp/site/. web:/www/', 'echo site-copied');
  return `${lines.join('\n')}\n`;
}
