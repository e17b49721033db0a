// netnsd's dashboard (README.md, "Dashboard"; openapi/openapi.yaml): the
// namespaces as groups, their links inside, veth pairs as edges between
// groups, bridges with their ports, addresses, and drift in red. It reads
// everything once (GET /v1/namespaces and GET /v1/links) and then follows
// GET /v1/events: no polling. Only what an event touches is drawn again.
'use strict';

(() => {
  const TOKEN_KEY = 'netnsd-token';
  const EVENT_TYPES = ['namespace', 'link', 'address', 'route', 'sysctl',
    'state', 'drift', 'resync'];
  // More namespaces to re-read than one GET /v1/links?namespace=... may
  // name (the API takes 16 values): re-read everything instead.
  const NS_PER_READ = 16;

  const $ = (id) => document.getElementById(id);

  const model = {
    namespaces: new Map(), // name -> namespace object (GET /v1/namespaces)
    links: new Map(), // namespace -> Map(link name -> link object)
  };
  const view = {
    groups: new Map(), // namespace -> its <section>
    linkEls: new Map(), // "ns\0link" -> its <li>
  };

  // ---------------------------------------------------------------- HTTP

  class ApiError extends Error {
    constructor(status, problem, text) {
      super((problem && problem.detail) || text || ('HTTP ' + status));
      this.status = status;
      this.problem = problem;
    }
  }

  let tokenAsked = null;

  // Asks for the bearer token once; every request waiting on a 401 waits
  // for the same answer.
  function askToken() {
    if (tokenAsked) return tokenAsked;
    tokenAsked = new Promise((resolve) => {
      const dialog = $('token-dialog');
      const form = $('token-form');
      form.onsubmit = (e) => {
        e.preventDefault();
        const token = $('token').value.trim();
        if (!token) return;
        sessionStorage.setItem(TOKEN_KEY, token);
        $('token').value = '';
        dialog.close();
        tokenAsked = null;
        resolve();
      };
      dialog.showModal();
    });
    return tokenAsked;
  }

  async function api(method, path, body) {
    for (;;) {
      const headers = {};
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (token) headers.Authorization = 'Bearer ' + token;
      const init = { method, headers, cache: 'no-store' };
      if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
      const r = await fetch(path, init);
      if (r.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        await askToken();
        continue;
      }
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch (_) {
        json = null;
      }
      if (!r.ok) throw new ApiError(r.status, json, text);
      return json;
    }
  }

  function say(text, error) {
    const m = $('message');
    m.textContent = text;
    m.className = error ? 'error' : '';
  }

  function sayError(what, err) {
    say(what + ': ' + err.message, true);
  }

  // ------------------------------------------------------------- reading

  function linksOf(ns) {
    let m = model.links.get(ns);
    if (!m) {
      m = new Map();
      model.links.set(ns, m);
    }
    return m;
  }

  async function readAll() {
    const [nss, links] = await Promise.all([
      api('GET', '/v1/namespaces'), api('GET', '/v1/links')]);
    model.namespaces = new Map(nss.items.map((n) => [n.name, n]));
    model.links = new Map();
    for (const l of links.items) linksOf(l.namespace).set(l.name, l);
    renderAll();
  }

  async function readNamespaces() {
    const nss = await api('GET', '/v1/namespaces');
    const before = new Set(model.namespaces.keys());
    model.namespaces = new Map(nss.items.map((n) => [n.name, n]));
    for (const ns of before) {
      if (!model.namespaces.has(ns)) {
        model.links.delete(ns);
        dirty.add(ns);
      }
    }
    for (const ns of model.namespaces.keys()) dirty.add(ns);
    scheduleRender();
  }

  async function readLinks(namespaces) {
    const q = namespaces.map((n) => 'namespace=' + encodeURIComponent(n));
    const links = await api('GET', '/v1/links?' + q.join('&'));
    for (const ns of namespaces) model.links.set(ns, new Map());
    for (const l of links.items) linksOf(l.namespace).set(l.name, l);
    for (const ns of namespaces) dirty.add(ns);
    scheduleRender();
  }

  // What events said is stale and is re-read in one go, a moment later, so
  // that a burst of events costs a few requests, not one each.
  const stale = { all: false, namespaces: false, links: new Set() };
  let staleTimer = null;

  function markStale(kind, ns) {
    if (kind === 'all') stale.all = true;
    else if (kind === 'namespaces') stale.namespaces = true;
    else if (ns) stale.links.add(ns);
    if (!staleTimer) staleTimer = setTimeout(readStale, 50);
  }

  async function readStale() {
    const all = stale.all || stale.links.size > NS_PER_READ;
    const nss = stale.namespaces;
    const links = [...stale.links];
    stale.all = false;
    stale.namespaces = false;
    stale.links.clear();
    try {
      if (all) {
        await readAll();
      } else {
        if (nss) await readNamespaces();
        if (links.length) await readLinks(links);
      }
    } catch (err) {
      sayError('Reading the topology', err);
    } finally {
      staleTimer = null;
      if (stale.all || stale.namespaces || stale.links.size) {
        staleTimer = setTimeout(readStale, 50);
      }
    }
  }

  // -------------------------------------------------------------- events

  let source = null;
  let retryMs = 1000;
  let reconnectTimer = null;
  let lastEventId = null;
  let queue = null; // events that came while everything was being read

  function setLive(on, text) {
    const el = $('live');
    el.className = on ? 'live on' : 'live off';
    el.textContent = text;
  }

  function isLink(o) {
    return o && typeof o === 'object' && 'ifindex' in o && 'kind' in o;
  }

  function applyEvent(type, data) {
    const ns = data.namespace;
    if (type === 'resync') {
      markStale('all');
      return;
    }
    if (type === 'namespace') {
      markStale('namespaces');
      if (ns && data.action !== 'removed') markStale('links', ns);
      return;
    }
    if ((type === 'link' || type === 'drift') && ns && data.name &&
        (isLink(data.object) || (type === 'link' && data.action === 'removed'))) {
      if (data.object) linksOf(ns).set(data.name, data.object);
      else linksOf(ns).delete(data.name);
      if (!model.namespaces.has(ns)) markStale('namespaces');
      dirty.add(ns);
      scheduleRender();
      // A removed link may still be desired (shown as missing): ask.
      if (!data.object) markStale('links', ns);
      return;
    }
    // A namespace's own drift (its object has a count of links): the
    // object is the namespace as its GET shows it, nothing to re-read.
    if (type === 'drift' && data.object && typeof data.object.links === 'number') {
      if (ns && model.namespaces.has(ns)) {
        model.namespaces.set(ns, data.object);
        dirty.add(ns);
        scheduleRender();
      } else {
        markStale('namespaces');
      }
      return;
    }
    // Addresses live inside links; a drift of something else, or an event
    // without its object: re-read the namespace's links.
    if (ns && (type === 'address' || type === 'link' || type === 'drift')) {
      markStale('links', ns);
    } else if (type === 'state') {
      markStale('all');
    }
  }

  function onEvent(e) {
    if (e.lastEventId) lastEventId = e.lastEventId;
    let data = {};
    try {
      data = e.data ? JSON.parse(e.data) : {};
    } catch (_) {
      data = {};
    }
    if (queue) queue.push([e.type, data]);
    else applyEvent(e.type, data);
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  }

  // Opens the stream; resolves once it is open or has failed. With a
  // token, EventSource cannot send it: a one-use ticket goes in the URL
  // instead (POST /v1/events/tickets), never the token.
  async function connect() {
    const params = new URLSearchParams();
    if (lastEventId) params.set('since', lastEventId);
    if (sessionStorage.getItem(TOKEN_KEY)) {
      try {
        const t = await api('POST', '/v1/events/tickets');
        params.set('ticket', t.ticket);
      } catch (err) {
        setLive(false, 'offline');
        scheduleReconnect();
        return;
      }
    }
    const qs = params.toString();
    return new Promise((resolve) => {
      const es = new EventSource('/v1/events' + (qs ? '?' + qs : ''));
      source = es;
      es.onopen = () => {
        retryMs = 1000;
        setLive(true, 'live');
        resolve();
      };
      es.onerror = () => {
        // Reconnected by hand, with a new ticket and ?since= the last id
        // seen: nothing is missed, or the server starts with `resync`.
        es.close();
        if (source === es) source = null;
        setLive(false, 'offline');
        scheduleReconnect();
        resolve();
      };
      for (const t of EVENT_TYPES) es.addEventListener(t, onEvent);
    });
  }

  // ------------------------------------------------------------ drawing

  const dirty = new Set();
  let renderQueued = false;

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      const names = [...dirty];
      dirty.clear();
      for (const ns of names) renderGroup(ns);
      renderChrome();
      drawEdges();
    });
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function key(ns, name) {
    return ns + '\u0000' + name;
  }

  function renderLink(l, byMaster) {
    const li = el('li', 'link kind-' + l.kind);
    li.dataset.link = l.name;
    if (l.in_sync === false) li.classList.add('drift');
    const row = el('div', 'row');
    const dot = el('span', l.up ? 'dot up' : 'dot');
    dot.title = (l.up ? 'up' : 'down') + ', ' + l.oper_state;
    row.append(dot, el('span', 'name', l.name), el('span', 'kind', l.kind));
    if (l.managed) row.append(el('span', 'badge', 'managed'));
    if (l.peer) {
      const p = el('span', 'peer', '\u2194 ' + l.peer.namespace + '/' + l.peer.name);
      row.append(p);
    }
    li.append(row);
    if (l.addresses && l.addresses.length) {
      li.append(el('div', 'addr', l.addresses.join(' ')));
    }
    if (l.in_sync === false) {
      li.append(el('div', 'drift-text', (l.drift || ['drifted']).join('; ')));
    }
    li.title = l.name + ' (' + l.kind + ') mtu ' + l.mtu + (l.mac ? ' ' + l.mac : '');
    view.linkEls.set(key(l.namespace, l.name), li);
    const ports = byMaster.get(l.name);
    if (l.kind === 'bridge' && ports) {
      const ul = el('ul', 'ports');
      for (const p of ports) ul.append(renderLink(p, byMaster));
      li.append(ul);
    }
    return li;
  }

  function renderGroup(ns) {
    for (const k of [...view.linkEls.keys()]) {
      if (k.startsWith(ns + '\u0000')) view.linkEls.delete(k);
    }
    const old = view.groups.get(ns);
    const info = model.namespaces.get(ns);
    if (!info) {
      if (old) old.remove();
      view.groups.delete(ns);
      return;
    }
    const sec = el('section', 'ns');
    sec.dataset.ns = ns;
    const links = [...linksOf(ns).values()];
    const drifted = info.in_sync === false || links.some((l) => l.in_sync === false);
    if (drifted) sec.classList.add('drift');
    const head = el('header');
    const h2 = el('h2', '', ns);
    h2.title = ns;
    head.append(h2);
    if (info.managed) head.append(el('span', 'badge', 'managed'));
    const del = el('button', 'del', 'Delete');
    del.type = 'button';
    del.dataset.action = 'delete';
    del.title = 'Delete namespace ' + ns + ' (click twice)';
    if (armed.get(ns) > Date.now()) armButton(del, true);
    head.append(del);
    sec.append(head);
    if (info.in_sync === false && info.drift) {
      sec.append(el('div', 'ns-drift', info.drift.join('; ')));
    }
    // Bridge ports are drawn inside their bridge, the rest in name order
    // as the API lists them.
    const names = new Set(links.map((l) => l.name));
    const byMaster = new Map();
    for (const l of links) {
      if (l.master && names.has(l.master)) {
        if (!byMaster.has(l.master)) byMaster.set(l.master, []);
        byMaster.get(l.master).push(l);
      }
    }
    const ul = el('ul', 'links');
    for (const l of links) {
      if (!(l.master && names.has(l.master))) ul.append(renderLink(l, byMaster));
    }
    sec.append(ul);
    if (old) {
      old.replaceWith(sec);
    } else {
      placeGroup(ns, sec);
    }
    view.groups.set(ns, sec);
  }

  // Groups stay in name order: a new one goes before the first after it.
  function placeGroup(ns, sec) {
    const grid = $('grid');
    let next = null;
    for (const child of grid.children) {
      if (child.dataset.ns > ns) {
        next = child;
        break;
      }
    }
    grid.insertBefore(sec, next);
  }

  function renderAll() {
    $('grid').replaceChildren();
    view.groups.clear();
    view.linkEls.clear();
    const names = [...model.namespaces.keys()].sort();
    for (const ns of names) renderGroup(ns);
    dirty.clear();
    renderChrome();
    drawEdges();
  }

  function renderChrome() {
    let links = 0;
    let drift = 0;
    for (const ns of model.namespaces.keys()) {
      for (const l of linksOf(ns).values()) {
        links++;
        if (l.in_sync === false) drift++;
      }
    }
    $('counts').textContent = model.namespaces.size + ' namespaces, ' +
      links + ' links' + (drift ? ', ' + drift + ' drifted' : '');
    const names = [...model.namespaces.keys()].sort();
    for (const id of ['veth-ns-a', 'veth-ns-b']) {
      const sel = $(id);
      const had = sel.value;
      if (sel.options.length === names.length &&
          [...sel.options].every((o, i) => o.value === names[i])) continue;
      sel.replaceChildren(...names.map((n) => {
        const o = el('option', '', n);
        o.value = n;
        return o;
      }));
      if (names.includes(had)) sel.value = had;
    }
  }

  // The veth edges: one SVG path per pair whose two ends are both shown,
  // from the right side of one row to the left side of the other. Drawn
  // only after a change or a resize, reading each row's box once.
  let edgesQueued = false;

  function drawEdges() {
    const svg = $('edges');
    const main = $('main');
    const base = main.getBoundingClientRect();
    const boxes = new Map();
    const box = (k) => {
      if (!boxes.has(k)) {
        const e = view.linkEls.get(k);
        const row = e && e.firstChild;
        boxes.set(k, row ? row.getBoundingClientRect() : null);
      }
      return boxes.get(k);
    };
    const paths = [];
    for (const [ns, links] of model.links) {
      if (!model.namespaces.has(ns)) continue;
      for (const l of links.values()) {
        if (!l.peer || !model.namespaces.has(l.peer.namespace)) continue;
        const a = key(ns, l.name);
        const b = key(l.peer.namespace, l.peer.name);
        if (a > b) continue; // each pair once
        const ra = box(a);
        const rb = box(b);
        if (!ra || !rb) continue;
        const peer = linksOf(l.peer.namespace).get(l.peer.name);
        const drift = l.in_sync === false || (peer && peer.in_sync === false);
        const [p, q] = ra.left <= rb.left ? [ra, rb] : [rb, ra];
        const sameColumn = Math.abs(p.left - q.left) < 4;
        const x1 = (sameColumn ? p.left : p.right) - base.left;
        const y1 = p.top + p.height / 2 - base.top;
        const x2 = q.left - base.left;
        const y2 = q.top + q.height / 2 - base.top;
        const bend = sameColumn ? -40 : Math.max(30, (x2 - x1) / 2);
        const d = 'M' + x1 + ',' + y1 + ' C' + (x1 + bend) + ',' + y1 + ' ' +
          (x2 - bend) + ',' + y2 + ' ' + x2 + ',' + y2;
        paths.push([d, drift, ns + '/' + l.name + ' \u2194 ' +
          l.peer.namespace + '/' + l.peer.name, x1, y1, x2, y2]);
      }
    }
    svg.setAttribute('width', main.scrollWidth);
    svg.setAttribute('height', main.scrollHeight);
    const ns = 'http://www.w3.org/2000/svg';
    const shapes = [];
    for (const [d, drift, label, x1, y1, x2, y2] of paths) {
      const p = document.createElementNS(ns, 'path');
      p.setAttribute('d', d);
      p.setAttribute('class', drift ? 'edge drift' : 'edge');
      p.dataset.pair = label;
      shapes.push(p);
      for (const [x, y] of [[x1, y1], [x2, y2]]) {
        const c = document.createElementNS(ns, 'circle');
        c.setAttribute('cx', x);
        c.setAttribute('cy', y);
        c.setAttribute('r', 2.5);
        c.setAttribute('class', 'end');
        shapes.push(c);
      }
    }
    svg.replaceChildren(...shapes);
  }

  function queueEdges() {
    if (edgesQueued) return;
    edgesQueued = true;
    requestAnimationFrame(() => {
      edgesQueued = false;
      drawEdges();
    });
  }

  // ------------------------------------------------------------- actions

  function path(...parts) {
    return parts.map(encodeURIComponent).join('/');
  }

  async function createNamespace(e) {
    e.preventDefault();
    const name = $('ns-name').value.trim();
    try {
      await api('POST', '/v1/namespaces', { name });
      $('ns-name').value = '';
      say('Created namespace ' + name + '.');
      // Read back now: the stream says so too, but the page must not
      // depend on it for its own change.
      markStale('namespaces');
      markStale('links', name);
    } catch (err) {
      sayError('Creating namespace ' + name, err);
    }
  }

  // Namespaces whose Delete was clicked once, and until when: kept here,
  // not in the button, which a redraw replaces.
  const armed = new Map();

  function armButton(button, on) {
    button.classList.toggle('armed', on);
    button.textContent = on ? 'Sure?' : 'Delete';
  }

  async function deleteNamespace(ns, button) {
    // Two clicks: the first arms the button for a few seconds.
    if (!(armed.get(ns) > Date.now())) {
      armed.set(ns, Date.now() + 4000);
      armButton(button, true);
      setTimeout(() => {
        armed.delete(ns);
        const b = view.groups.get(ns);
        if (b) armButton(b.querySelector('button[data-action="delete"]'), false);
      }, 4000);
      return;
    }
    armed.delete(ns);
    try {
      await api('DELETE', '/v1/' + path('namespaces', ns));
      say('Deleted namespace ' + ns + '.');
      markStale('namespaces');
    } catch (err) {
      sayError('Deleting namespace ' + ns, err);
    }
  }

  async function createVeth(e) {
    e.preventDefault();
    const nsA = $('veth-ns-a').value;
    const nsB = $('veth-ns-b').value;
    const a = $('veth-a').value.trim();
    const b = $('veth-b').value.trim();
    try {
      await api('POST', '/v1/' + path('namespaces', nsA, 'veths'),
        { name: a, peer: { name: b, namespace: nsB }, up: true });
      say('Created veth pair ' + nsA + '/' + a + ' \u2194 ' + nsB + '/' + b + '.');
      $('veth-a').value = '';
      $('veth-b').value = '';
      markStale('links', nsA);
      markStale('links', nsB);
    } catch (err) {
      sayError('Creating the veth pair', err);
    }
  }

  async function reconcile() {
    try {
      const r = await api('POST', '/v1/reconcile');
      const n = r && Array.isArray(r.actions) ? r.actions.length : null;
      say('Reconciled' + (n === null ? '.' : ': ' + n + ' action(s).'));
      markStale('all');
    } catch (err) {
      sayError('Reconcile', err);
    }
  }

  // ---------------------------------------------------------------- start

  async function start() {
    $('ns-form').addEventListener('submit', createNamespace);
    $('veth-form').addEventListener('submit', createVeth);
    $('reconcile').addEventListener('click', reconcile);
    $('grid').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action="delete"]');
      if (b) deleteNamespace(b.closest('section').dataset.ns, b);
    });
    window.addEventListener('resize', queueEdges);
    try {
      // A first read finds out whether a token is needed (and asks).
      await api('GET', '/v1/namespaces');
      // Subscribed before the whole read: what changes in between is
      // queued and applied after it, so nothing falls in a gap.
      queue = [];
      await Promise.race([connect(), new Promise((r) => setTimeout(r, 3000))]);
      await readAll();
    } catch (err) {
      sayError('Reading the topology', err);
    } finally {
      const q = queue || [];
      queue = null;
      for (const [type, data] of q) applyEvent(type, data);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
