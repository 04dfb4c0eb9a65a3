// The dashboard page's script: plain JS (no build step, no dependency), served by the gateway at
// /dashboard/app.js. Live data arrives over server-sent events (GET /events: one `snapshot`, then a `tick`
// a second); devices come a page at a time from GET /devices; drill-downs read the JSON API. Everything
// from the network is put in the page with textContent (never innerHTML), so no data can inject markup.
// The plotted series are exposed as window.iosnetDashboard and in data-points attributes for tests.

const PAGE = 50;
const $ = (id) => document.getElementById(id);
const state = { series: [], last: null, deviceOffset: 0, deviceTotal: -1, connected: false, ticks: 0 };
window.iosnetDashboard = state;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function link(text, hash) {
  const a = el('a', text, 'mono');
  a.href = hash;
  return a;
}

const short = (hex) => (hex && hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : (hex ?? '-'));
const ms = (v) =>
  v === null || v === undefined ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`;
// Amounts arrive as decimal strings of the smallest unit (10^8 per IOST: core/token.ts).
const iost = (s) => {
  const v = BigInt(s);
  const whole = v / 100000000n;
  return whole.toLocaleString('en-US');
};
const pct = (ppm) => `${(Number(ppm) / 10000).toFixed(1)}%`;
const ago = (t) => {
  if (t === null || t === undefined) return 'never';
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : new Date(t).toISOString();
};

// ---- plots ----

function plot(canvas, lines) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 400;
  const h = canvas.clientHeight || 160;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pad = { l: 44, r: 8, t: 8, b: 18 };
  const all = lines.flatMap((l) => l.points.filter((p) => p.y !== null));
  // The last five minutes, or less while the page has less (the time axis grows to five minutes).
  const tMax = Date.now();
  const firstT = Math.min(...lines.map((l) => l.points[0]?.t ?? tMax));
  const span = Math.min(5 * 60 * 1000, Math.max(60 * 1000, tMax - firstT));
  const tMin = tMax - span;
  let yMax = Math.max(1, ...all.map((p) => p.y));
  const mag = 10 ** Math.floor(Math.log10(yMax));
  yMax = Math.ceil(yMax / mag) * mag;
  const x = (t) => pad.l + ((t - tMin) / (tMax - tMin)) * (w - pad.l - pad.r);
  const y = (v) => h - pad.b - (v / yMax) * (h - pad.t - pad.b);
  g.strokeStyle = '#2a333d';
  g.fillStyle = '#8593a1';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    g.beginPath();
    g.moveTo(pad.l, y(v));
    g.lineTo(w - pad.r, y(v));
    g.stroke();
    g.fillText(String(Math.round(v * 10) / 10), 4, y(v) + 4);
  }
  for (let m = 0; m <= 4; m++) {
    const back = Math.round((span * (4 - m)) / 4 / 1000);
    const label = m === 4 ? 'now' : back >= 60 ? `-${Math.round(back / 6) / 10}m` : `-${back}s`;
    g.fillText(label, Math.min(x(tMin + (span * m) / 4) - 8, w - 24), h - 4);
  }
  for (const line of lines) {
    g.strokeStyle = line.color;
    g.lineWidth = 1.5;
    g.beginPath();
    let pen = false;
    const lone = [];
    line.points.forEach((p, i) => {
      if (p.y === null || p.t < tMin) {
        pen = false;
        return;
      }
      if (pen) g.lineTo(x(p.t), y(p.y));
      else {
        g.moveTo(x(p.t), y(p.y));
        // A sample with no drawable neighbour would be invisible as a line: it gets a dot.
        if ((line.points[i + 1]?.y ?? null) === null) lone.push(p);
      }
      pen = true;
    });
    g.stroke();
    g.fillStyle = line.color;
    for (const p of lone) {
      g.beginPath();
      g.arc(x(p.t), y(p.y), 2.5, 0, 2 * Math.PI);
      g.fill();
    }
  }
  canvas.dataset.points = String(all.length);
}

function drawPlots() {
  const s = state.series;
  const tps = s.map((p) => ({ t: p.t, y: p.txPerSecond }));
  const g1 = s.map((p) => ({ t: p.t, y: p.grade1Ms }));
  const g2 = s.map((p) => ({ t: p.t, y: p.grade2Ms }));
  plot($('plot-tps'), [{ color: '#4fb3ff', points: tps }]);
  plot($('plot-latency'), [
    { color: '#f5b94a', points: g1 },
    { color: '#7bd88f', points: g2 },
  ]);
}

// ---- live view ----

function render(v) {
  state.last = v;
  $('chain').textContent = v.chainId;
  $('height').textContent = v.height;
  $('finalized').textContent = v.finalizedHeight;
  $('epoch').textContent = v.epoch;
  $('view').textContent = v.view;
  $('peers').textContent = v.peers;
  $('mempool').textContent = v.mempool.size;
  $('sb').textContent = v.latestStateBlock ?? '-';
  $('tps').textContent = v.txPerSecond;
  $('g1').textContent = ms(v.latencyMs.grade1.p50);
  $('g2').textContent = ms(v.latencyMs.grade2.p50);
  renderCommittee(v);
  renderSlashing(v.slashing);
  $('mqtt-connected').textContent = v.mqtt.connectedDevices;
  $('mqtt-rate').textContent = v.mqtt.requestsPerSecond;
  $('mqtt-total').textContent = v.mqtt.requestsTotal;
  $('mqtt-refused').textContent = v.mqtt.refusalsTotal;
  $('mqtt-active').textContent = v.devices.activeLastMinute ?? '-';
  if (v.devices.registered !== state.deviceTotal) {
    state.deviceTotal = v.devices.registered;
    void loadDevices();
  }
}

function renderCommittee(v) {
  $('committee-epoch').textContent = `epoch ${v.epoch}, ${v.committee.length} members`;
  const rows = v.committee.map((m) => {
    const tr = el('tr');
    tr.dataset.owner = m.owner ?? '';
    tr.append(
      el('td', m.index, 'num'),
      el('td'),
      el('td', m.weight, 'num'),
      el('td', m.believability, 'num'),
      el('td', iost(m.stake), 'num'),
      el('td', m.servi, 'num'),
      el('td', pct(m.reputationPpm), 'num'),
      el('td', m.done, 'num'),
      el('td', m.missed, m.missed > 0 ? 'num bad' : 'num'),
      el('td', m.league ? 'yes' : ''),
      el('td', m.slashed ? 'SLASHED' : '', 'bad'),
    );
    if (m.owner) tr.children[1].append(link(short(m.owner), `#/account/${m.owner}`));
    else tr.children[1].textContent = short(m.blsPublicKey);
    return tr;
  });
  $('committee').tBodies[0].replaceChildren(...rows);
}

function renderSlashing(events) {
  const body = $('slashing').tBodies[0];
  if (events.length === 0) {
    const tr = el('tr');
    const td = el('td', 'none', 'dim');
    td.colSpan = 3;
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...events
      .slice()
      .reverse()
      .map((e) => {
        const tr = el('tr');
        const who = el('td');
        who.append(link(short(e.owner), `#/account/${e.owner}`));
        tr.append(el('td', new Date(e.at).toISOString().slice(11, 19)), el('td', e.height, 'num'), who);
        return tr;
      }),
  );
}

// ---- devices (one page at a time: 5,000 registered devices cost one page of rows) ----

let devicesLoading = null;
async function loadDevices() {
  if (devicesLoading) return devicesLoading;
  devicesLoading = (async () => {
    try {
      const res = await fetch(`/devices?offset=${state.deviceOffset}&limit=${PAGE}`);
      if (!res.ok) return;
      const page = await res.json();
      state.devices = page;
      $('devices-count').textContent = `${page.total} registered`;
      const last = Math.min(page.total, page.offset + page.devices.length);
      $('page').textContent = page.total === 0 ? 'none' : `${page.offset + 1}–${last} of ${page.total}`;
      $('prev').disabled = page.offset === 0;
      $('next').disabled = last >= page.total;
      $('devices').tBodies[0].replaceChildren(
        ...page.devices.map((d) => {
          const tr = el('tr');
          tr.dataset.id = d.identityHash;
          const id = el('td');
          id.append(link(short(d.identityHash), `#/device/${d.identityHash}`));
          const owner = el('td');
          owner.append(link(short(d.owner), `#/account/${d.owner}`));
          tr.append(
            id,
            el('td', d.boardId),
            owner,
            el('td', d.registeredHeight, 'num'),
            el('td', ago(d.lastSeen)),
            el('td', d.sync),
          );
          return tr;
        }),
      );
    } finally {
      devicesLoading = null;
    }
  })();
  return devicesLoading;
}

$('prev').onclick = () => {
  state.deviceOffset = Math.max(0, state.deviceOffset - PAGE);
  void loadDevices();
};
$('next').onclick = () => {
  state.deviceOffset += PAGE;
  void loadDevices();
};

// ---- drill-down (#/block/H, #/tx/ID, #/account/ADDR, #/device/ID) ----

const ROUTES = {
  block: (v) => `/blocks/${encodeURIComponent(v)}`,
  tx: (v) => `/txs/${encodeURIComponent(v)}`,
  account: (v) => `/accounts/${encodeURIComponent(v)}?at=latest`,
  device: (v) => `/devices/${encodeURIComponent(v)}?at=latest`,
};

function summary(kind, j) {
  const rows = [];
  if (kind === 'block') {
    rows.push(['height', j.height], ['id', j.id], ['proposer', j.header?.proposer], ['txs', j.txIds.length]);
    rows.push(['certificate signers', JSON.stringify(j.certificate?.signers)]);
  } else if (kind === 'tx') {
    const grade = { grade2: '2 (final)', grade1: '1 (proposed by a league member)' }[j.status] ?? '-';
    rows.push(['status', j.status], ['grade', grade]);
    if (j.height !== undefined) rows.push(['height', j.height], ['index', j.index]);
    const proof =
      j.status === 'grade2'
        ? 'inclusion proof with finality certificate'
        : j.status === 'grade1'
          ? 'inclusion proof under the proposal header (no certificate yet)'
          : 'none';
    rows.push(['inclusion proof', proof]);
  } else if (kind === 'account') {
    const a = j.account ?? {};
    rows.push(['exists', j.exists], ['balance (IOST)', a.balance !== undefined ? iost(a.balance) : '-']);
    rows.push(['staked (IOST)', a.staked !== undefined ? iost(a.staked) : '-'], ['nonce', a.nonce]);
    rows.push(['at height', j.height]);
  } else if (kind === 'device') {
    const d = j.device;
    rows.push(['registered', d ? 'yes' : 'no (absence proven)']);
    if (d) rows.push(['board', d.boardId], ['owner', d.owner], ['serial', d.hardwareSerial]);
    if (d) rows.push(['registered at', d.registeredHeight]);
    const seen = state.devices?.devices.find((x) => x.identityHash === j.identityHash);
    if (seen) rows.push(['last seen', ago(seen.lastSeen)], ['sync', seen.sync]);
  }
  return rows;
}

async function showDetail(kind, value) {
  const box = $('detail');
  box.hidden = false;
  box.replaceChildren(el('p', `loading ${kind} ${value}…`, 'dim'));
  let j;
  let status;
  try {
    const res = await fetch(ROUTES[kind](value));
    status = res.status;
    j = await res.json();
  } catch {
    box.replaceChildren(el('p', 'the gateway did not answer', 'bad'));
    return;
  }
  const h = el('h2', `${kind} ${value}`);
  const close = link('close', '#');
  close.className = '';
  h.append(' ', close);
  if (j.error) {
    box.replaceChildren(h, el('p', `${status} ${j.error.code}: ${j.error.message}`, 'bad'));
    return;
  }
  const table = el('table');
  table.dataset.kind = kind;
  for (const [k, v] of summary(kind, j)) {
    const tr = el('tr');
    tr.append(el('th', k), el('td', v ?? '-', 'mono'));
    table.append(tr);
  }
  const body = [h, table];
  if (kind === 'block' && j.txIds.length > 0) {
    const list = el('p');
    for (const id of j.txIds.slice(0, 200)) list.append(link(short(id), `#/tx/${id}`), ' ');
    body.push(el('h2', 'transactions'), list);
  }
  const raw = el('details');
  raw.append(el('summary', 'raw JSON'), el('pre', JSON.stringify(j, null, 2)));
  body.push(raw);
  box.replaceChildren(...body);
}

function route() {
  const m = /^#\/(block|tx|account|device)\/([0-9A-Fa-f]+)$/.exec(location.hash);
  if (!m) {
    $('detail').hidden = true;
    return;
  }
  $('lookup-kind').value = m[1];
  $('lookup-value').value = m[2];
  void showDetail(m[1], m[2]);
}

$('lookup').onsubmit = (e) => {
  e.preventDefault();
  const v = $('lookup-value').value.trim();
  if (v) location.hash = `#/${$('lookup-kind').value}/${v}`;
};
window.addEventListener('hashchange', route);
route();

// ---- the event stream ----

function connect() {
  const es = new EventSource('/events');
  es.addEventListener('snapshot', (e) => {
    const v = JSON.parse(e.data);
    state.series = v.series;
    render(v);
    drawPlots();
  });
  es.addEventListener('tick', (e) => {
    const v = JSON.parse(e.data);
    state.ticks++;
    if (v.point) {
      state.series.push(v.point);
      if (state.series.length > 300) state.series.shift();
    }
    render(v);
    drawPlots();
  });
  es.onopen = () => {
    $('conn').textContent = 'live';
    $('conn').className = 'ok';
  };
  // EventSource reconnects by itself (the server sends retry: 2000) and gets a fresh snapshot.
  es.onerror = () => {
    $('conn').textContent = 'reconnecting…';
    $('conn').className = 'bad';
  };
}
connect();
window.addEventListener('resize', drawPlots);
