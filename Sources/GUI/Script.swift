/// corral.js: the GUI's only script (~350 lines). Forms marked `data-api` are sent to the REST API with the
/// session's CSRF token, so every action passes the API's authorisation boundary and audit log; elements marked
/// `data-poll` refresh themselves from the server: those also marked `data-live` when a matching event arrives on
/// the page's one EventSource (`GET /api/v1/events`, Server-Sent Events), polling only as a slow fallback while
/// that stream is open; `details[data-tree]` load a parameter subtree when opened.
public enum Assets {
    /// Bumped when css/js change (part of their URLs; they are served cacheable).
    public static let version = "9"

    /// The event kinds corral.js listens for: EventSource delivers a named event only to a listener for that name,
    /// so a live part's patterns (`device.*`) are expanded over this list. ACSCore's `WebhookRules.knownEvents`
    /// (GUI does not depend on ACSCore; PageTests checks that the two lists agree).
    public static let eventKinds = [
        "device.onboarded", "device.boot", "device.bootstrap", "device.offline", "device.online",
        "task.done", "task.fault", "campaign.started", "campaign.finished", "campaign.stopped", "campaign.paused", "campaign.resumed",
        "campaign.cancelled", "firmware.done", "firmware.fault", "firmware.failed", "rollout.started", "rollout.wave", "rollout.stopped", "rollout.finished",
        "rollout.paused", "rollout.resumed", "rollout.cancelled", "alert.raised", "alert.cleared", "validate.done", "webhook.test",
    ]

    /// `eventKinds` as the items of a JavaScript array literal.
    static let eventKindsJS = eventKinds.map { "'" + $0 + "'" }.joined(separator: ", ")

    /// Seconds between a live part's fallback reads while the event stream is open (`data-live-every` overrides).
    public static let liveFallbackSeconds = 60
}

extension Assets {
    public static let js = #"""
(function () {
'use strict';
function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ''; }
async function api(method, url, body, headers) {
  var h = Object.assign({'X-CSRF-Token': csrf()}, headers || {});
  var b = body;
  if (body !== undefined && !(body instanceof ArrayBuffer)) { h['Content-Type'] = 'application/json'; b = JSON.stringify(body); }
  var r = await fetch(url, {method: method, headers: h, body: b, credentials: 'same-origin'});
  var t = await r.text(), data = null;
  try { data = t ? JSON.parse(t) : null; } catch (e) { data = t; }
  return {ok: r.ok, status: r.status, data: data};
}
function put(obj, keys, v) {
  var o = obj;
  for (var i = 0; i < keys.length - 1; i++) {
    if (o[keys[i]] === undefined) o[keys[i]] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    o = o[keys[i]];
  }
  o[keys[keys.length - 1]] = v;
}
function formJSON(form) {
  var out = form.dataset.body ? JSON.parse(form.dataset.body) : {};
  Array.prototype.forEach.call(form.elements, function (el) {
    if (!el.name || el.disabled || el.matches(':disabled') || el.type === 'file') return;
    var v = el.type === 'checkbox' ? el.checked : el.value, kind = el.dataset.kind;
    if (kind === 'int') { if (v === '') return; v = Number(v); }
    else if (kind === 'list') v = v.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    else if (kind === 'words') v = v.split(/[\s,]+/).filter(Boolean);
    else if (kind === 'optional' && v === '') return;
    put(out, el.name.split('.'), v);
  });
  return out;
}
function describe(r) {
  var d = r.data;
  if (!r.ok) return (d && (d.detail || d.title)) || ('HTTP ' + r.status);
  if (d && d.severity && d.device_name) return 'Alert ' + d.name + ' on ' + d.device_name + (d.acknowledged_by ? ': acknowledged by ' + d.acknowledged_by : ': ' + d.state);
  if (d && d.state && d.action) {
    var s = 'Task ' + d.id + ' (' + d.action + '): ' + d.state;
    if (d.fault) s += ' - fault ' + d.fault.code + ' ' + d.fault.message + (d.fault.parameters ? ' (' + d.fault.parameters.join('; ') + ')' : '');
    if (d.result && d.result.values && d.result.values.length) s += ' - ' + d.result.values.map(function (v) { return v.path + ' = ' + v.value; }).join(', ');
    if (d.connection_request_error) s += ' - device not reachable now: ' + d.connection_request_error;
    if (r.status === 202 && d.state !== 'done') s += ' (still running; the task list updates by itself)';
    return s;
  }
  if (d && d.token) return 'Token (shown once): ' + d.token;
  if (d && d.secret && d.url && d.events) return 'Webhook #' + d.id + ' created. Its secret (shown once: copy it now, it will not be shown again): ' + d.secret;
  if (d && d.queued === true) return 'Test event queued: it shows in the delivery log within a few seconds.';
  if (d && d.accepted !== undefined && d.changed) return (d.changed.length ? 'Loaded: ' + d.changed.join(', ') : 'Nothing changed') + (d.problems.length ? ' - ' + d.problems.join('; ') : '');
  if (d && d.valid !== undefined) {
    var ps = (d.problems || []).map(function (p) { return p.kind + ': ' + p.message; });
    return (d.valid ? 'Valid: ' + d.profiles.map(function (p) { return p.name; }).join(', ') : 'Not valid') + (ps.length ? ' - ' + ps.join('; ') : '');
  }
  return 'Done.';
}
function selected() { return Array.prototype.map.call(document.querySelectorAll('input[name="sel"]:checked'), function (c) { return c; }); }
async function bulk(form) {
  var rows = selected(), op = form.dataset.bulk, ok = 0, errs = [];
  if (!rows.length) return {ok: false, status: 0, data: {detail: 'Select devices first.'}};
  var body = formJSON(form);
  var queue = rows.slice();
  async function worker() {
    while (queue.length) {
      var c = queue.shift(), id = c.value, r;
      if (op === 'reboot') r = await api('POST', '/api/v1/devices/' + id + '/tasks', {action: 'reboot', connection_request: true, timeout: 1});
      else if (op === 'group') {
        var groups = JSON.parse(c.dataset.groups || '[]');
        if (groups.indexOf(body.group) < 0) groups.push(body.group);
        r = await api('PATCH', '/api/v1/devices/' + id, {groups: groups});
      } else if (op === 'move') r = await api('PUT', '/api/v1/devices/' + id + '/organisation', {organisation_id: body.organisation_id});
      if (r.ok) ok++; else errs.push('#' + id + ': ' + describe(r));
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  return {ok: errs.length === 0, status: 200, data: {detail: ok + ' of ' + rows.length + ' done' + (errs.length ? '; ' + errs.slice(0, 3).join('; ') : '')}, bulk: true};
}
async function upload(form) {
  var f = form.querySelector('input[type=file]').files[0];
  if (!f) return {ok: false, status: 0, data: {detail: 'Choose a file.'}};
  var buf = await f.arrayBuffer(), h = {'Content-Type': 'application/octet-stream'};
  if (window.crypto && crypto.subtle) {
    var d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    h['X-Checksum-SHA256'] = Array.prototype.map.call(d, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  var q = new URLSearchParams();
  Array.prototype.forEach.call(form.elements, function (e) { if (e.name && e.type !== 'file' && !e.disabled && e.value !== '') q.set(e.name, e.value); });
  if (!q.get('name')) q.set('name', f.name);
  return api('POST', (form.dataset.upload || '/api/v1/files') + '?' + q.toString(), buf, h);
}
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function table(columns, rows, id) {
  var wrap = el('div', undefined, 'tablewrap'), t = el('table'), head = el('tr'), body = el('tbody');
  if (id) t.id = id;
  columns.forEach(function (c) { head.appendChild(el('th', c)); });
  rows.forEach(function (r) {
    var tr = el('tr');
    r.forEach(function (v) { tr.appendChild(el('td', v === null || v === undefined ? '' : String(v), 'wrap')); });
    body.appendChild(tr);
  });
  var thead = el('thead'); thead.appendChild(head); t.appendChild(thead); t.appendChild(body); wrap.appendChild(t);
  return wrap;
}
function say(out, text, ok) { if (out) { out.textContent = text; out.className = ok ? 'ok' : 'err'; } }
async function campaign(form, op) {
  var out = form.querySelector('output'), box = document.getElementById('c-preview');
  var body = {script: form.elements.script.value};
  if (form.elements.name.value) body.name = form.elements.name.value;
  if (op === 'start') {
    if (!window.confirm('Start this campaign on every device its target matches?')) return;
    var s = await api('POST', '/api/v1/campaigns', body);
    if (!s.ok) return say(out, describe(s), false);
    say(out, 'Campaign #' + s.data.id + ' (' + s.data.name + ') started: ' + s.data.progress.total + ' devices.', true);
    refreshAll();
    return;
  }
  var r = await api('POST', '/api/v1/campaigns/dry-run', body);
  box.textContent = '';
  if (!r.ok) return say(out, describe(r), false);
  var d = r.data;
  say(out, d.campaign.name + ': ' + d.count + ' devices' + (d.truncated ? ' (preview of the first ' + d.preview.length + ')' : '') +
      '; ' + d.campaign.per_minute + '/min, ' + d.campaign.concurrent + ' at once' + (d.campaign.waves.length ? ', waves ' + d.campaign.waves.join(', ') : '') + '.', true);
  box.appendChild(table(['Device', 'Serial', 'Actions'], d.preview.map(function (p) {
    return [p.name, p.serial, p.error ? 'error: ' + p.error : (p.actions.length ? p.actions.join('; ') : 'nothing to change')];
  }), 'c-preview-table'));
}
async function report(form, format) {
  var out = form.querySelector('output'), box = document.getElementById('r-result');
  var body = formJSON(form);
  delete body.format;
  if (!body.library) delete body.library; else delete body.script;
  body.format = format;
  if (format === 'csv') {
    var res = await fetch('/api/v1/reports/run', {method: 'POST', credentials: 'same-origin',
      headers: {'X-CSRF-Token': csrf(), 'Content-Type': 'application/json'}, body: JSON.stringify(body)});
    if (!res.ok) { var t = await res.text(), p = null; try { p = JSON.parse(t); } catch (e) {} return say(out, (p && p.detail) || ('HTTP ' + res.status), false); }
    var url = URL.createObjectURL(await res.blob()), a = el('a');
    a.href = url; a.download = (body.library || 'report') + '.csv'; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 5000);
    return say(out, 'CSV downloaded: ' + res.headers.get('X-Report-Rows') + ' rows' + (res.headers.get('X-Report-Truncated') === 'true' ? ' (truncated)' : '') + '.', true);
  }
  var r = await api('POST', '/api/v1/reports/run', body);
  box.textContent = '';
  if (!r.ok) return say(out, describe(r), false);
  say(out, r.data.row_count + ' rows' + (r.data.truncated ? ' (showing the first ' + r.data.rows.length + ')' : '') + '.', true);
  box.appendChild(table(r.data.columns, r.data.rows, 'r-table'));
}
function idsTemplate(ids) {
  return 'campaign {\n  name = "selected devices",\n  target = { ids = { ' + ids.join(', ') + ' } },\n' +
    '  rate = { per_minute = 60, concurrent = 10 },\n  connection_request = true,\n  apply = function(dev)\n' +
    '    -- e.g. dev:set("wifi.ssid", "Guest")\n  end,\n}\n';
}
document.addEventListener('submit', async function (ev) {
  var form = ev.target;
  if (form.matches('form[data-campaign], form[data-report]')) {
    ev.preventDefault();
    var op = ev.submitter ? ev.submitter.value : (form.matches('form[data-campaign]') ? 'dry-run' : 'json');
    var bs = form.querySelectorAll('button'), o = form.querySelector('output');
    bs.forEach(function (b) { b.disabled = true; });
    if (o) { o.textContent = 'Working…'; o.className = 'busy'; }
    try { if (form.matches('form[data-campaign]')) await campaign(form, op); else await report(form, op); }
    catch (e) { say(o, String(e), false); }
    finally { bs.forEach(function (b) { b.disabled = false; }); if (o && o.className === 'busy') o.textContent = ''; }
    return;
  }
  if (form.matches('form[data-bulk="campaign"]')) {
    ev.preventDefault();
    var ids = selected().map(function (c) { return c.value; });
    if (!ids.length) return say(form.querySelector('output'), 'Select devices first.', false);
    if (ids.length > 10000) return say(form.querySelector('output'), 'At most 10,000 devices per selection.', false);
    sessionStorage.setItem('corral.campaign.ids', JSON.stringify(ids));
    location.href = '/admin/campaigns#new-campaign';
    return;
  }
  if (form.matches('form[data-fragment]')) {
    ev.preventDefault();
    var target = document.getElementById(form.dataset.fragment);
    var fr = await fetch(form.action + '?' + new URLSearchParams(new FormData(form)).toString(), {credentials: 'same-origin'});
    target.innerHTML = await fr.text();
    return;
  }
  if (!form.matches('form[data-api], form[data-bulk], form[data-upload]')) return;
  ev.preventDefault();
  var out = form.querySelector('output'), buttons = form.querySelectorAll('button');
  if (form.dataset.confirmType !== undefined) {
    // Typed confirmation (deleting a device): the exact text, or nothing is sent.
    var typed = window.prompt(form.dataset.confirm || ('Type ' + form.dataset.confirmType + ' to confirm.'), '');
    if (typed === null) return;
    if (typed.trim() !== form.dataset.confirmType) return say(out, 'Not confirmed: "' + typed.trim() + '" is not ' + form.dataset.confirmType + '. Nothing was done.', false);
  } else if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  buttons.forEach(function (b) { b.disabled = true; });
  if (out) { out.textContent = 'Working…'; out.className = 'busy'; }
  try {
    var r;
    if (form.dataset.bulk) r = await bulk(form);
    else if (form.dataset.upload !== undefined) r = await upload(form);
    else {
      // A second submit button may send the same fields elsewhere (data-api on the button; {file} from the form).
      var sub = ev.submitter, url = (sub && sub.dataset.api) || form.dataset.api;
      if (url.indexOf('{file}') >= 0) url = url.replace('{file}', encodeURIComponent(form.elements.file.value));
      r = await api((sub && sub.dataset.method) || form.dataset.method || 'POST', url, form.dataset.nobody !== undefined ? undefined : formJSON(form));
    }
    var text = r.bulk ? r.data.detail : (r.ok && form.dataset.done ? form.dataset.done : describe(r)), toast = document.getElementById('toast');
    if (out) { out.textContent = text; out.className = r.ok ? 'ok' : 'err'; }
    if (toast) { toast.textContent = text; toast.className = r.ok ? 'ok' : 'err'; }
    if (r.ok) {
      if (form.dataset.then === 'reload') location.reload();
      else if (form.dataset.then) location.href = form.dataset.then;
      else refreshAll();
      var node = form.closest('details[data-tree]');
      if (node && node.open) loadTree(node);
    }
  } catch (e) {
    if (out) { out.textContent = String(e); out.className = 'err'; }
  } finally {
    buttons.forEach(function (b) { b.disabled = false; });
  }
});
// Parts that refresh themselves: an element with data-poll="URL" re-reads its HTML from URL. Marked
// data-live="device.*,task.done" it is re-read when such an event arrives on the page's one EventSource (at most once
// per data-live-min seconds, default 1: a burst is one read); data-live-device="<id>" takes only that device's events.
// While the stream is open a live part polls only every data-live-every seconds (default \#(Assets.liveFallbackSeconds)) as a fallback; while
// it is down, and always for parts without data-live, every data-every seconds.
var FALLBACK = \#(Assets.liveFallbackSeconds), KINDS = [\#(Assets.eventKindsJS)], loaded = Date.now();
var stream = {es: null, open: false, opened: false, retry: 0};
async function refresh(part, why) {
  var a = document.activeElement;
  if (a && part.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'SELECT' || a.tagName === 'TEXTAREA')) return;
  if (part._busy) { part._stale = part._stale || why || 'action'; return; }
  part._busy = true; part._at = Date.now(); part._stale = '';
  try {
    var r = await fetch(part.dataset.poll, {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname + location.search); return; }
    if (!r.ok) return;
    var t = await r.text();
    if (t === part.dataset.last) return;
    var keep = Array.prototype.map.call(part.querySelectorAll('input[name="sel"]:checked'), function (c) { return c.value; });
    part.innerHTML = t;
    part.dataset.last = t;
    part.dataset.updatedBy = why || 'action';
    keep.forEach(function (v) { var c = part.querySelector('input[name="sel"][value="' + v + '"]'); if (c) c.checked = true; });
    part.dispatchEvent(new CustomEvent('corral:updated', {bubbles: true}));
  } catch (e) { /* offline for a moment: try again next tick */ }
  finally { part._busy = false; }
}
function refreshAll() { document.querySelectorAll('[data-poll]').forEach(function (p) { refresh(p, 'action'); }); }
setInterval(function () {
  if (document.hidden) return;
  var now = Date.now();
  document.querySelectorAll('[data-poll]').forEach(function (p) {
    var since = now - (p._at || loaded) + 200, live = stream.open && p.dataset.live !== undefined;
    var every = live ? Number(p.dataset.liveEvery || FALLBACK) : Number(p.dataset.every || 5);
    if (p._stale && since >= 1000 * Number(p.dataset.liveMin || 1)) refresh(p, p._stale);
    else if (since >= 1000 * every) refresh(p, 'poll');
  });
}, 1000);
function words(s) { return (s || '').split(/[\s,]+/).filter(Boolean); }
function matches(patterns, kind) {
  return patterns.some(function (p) { return p === '*' || p === kind || (p.slice(-2) === '.*' && kind.indexOf(p.slice(0, -1)) === 0); });
}
// Live parts that `test` accepts are read at the next tick (why: what the read is for, data-updated-by).
function mark(why, test) {
  document.querySelectorAll('[data-poll][data-live]').forEach(function (p) { if (!test || test(p)) p._stale = p._stale || why; });
}
function onEvent(ev) {
  var msg = {};
  try { msg = JSON.parse(ev.data); } catch (e) { /* not JSON: the kind alone decides */ }
  var device = msg && msg.device ? String(msg.device.id) : '';
  mark('event', function (p) { return matches(words(p.dataset.live), ev.type) && (!p.dataset.liveDevice || p.dataset.liveDevice === device); });
}
function show(open) {
  stream.open = open;
  var s = document.getElementById('live'), top = document.querySelector('header.top');
  if (!s && top) {
    s = document.createElement('span');
    s.id = 'live';
    var who = top.querySelector('.who');
    if (who) who.insertBefore(s, who.firstChild); else top.appendChild(s);
  }
  if (!s) return;
  s.className = open ? 'live on' : 'live';
  s.textContent = open ? '\u25cf live' : '\u25cb polling';
  s.title = open ? 'Live: this page updates itself as events happen (a Server-Sent Events stream from /api/v1/events), and re-reads itself every minute or so in case one was missed.'
    : 'Polling: the live event stream is not connected (it reconnects by itself); meanwhile this page re-reads itself every few seconds.';
}
// One stream per page, for the union of its live parts' patterns; the browser reconnects it (sending Last-Event-ID).
function connect() {
  if (stream.es || document.hidden || !window.EventSource) return;
  var want = [];
  document.querySelectorAll('[data-poll][data-live]').forEach(function (p) {
    words(p.dataset.live).forEach(function (k) { if (want.indexOf(k) < 0) want.push(k); });
  });
  if (!want.length) return;
  var es = stream.es = new EventSource('/api/v1/events?types=' + encodeURIComponent(want.join(',')));
  KINDS.forEach(function (k) { if (matches(want, k)) es.addEventListener(k, onEvent); });
  es.onopen = function () {
    // Reconnected: what happened meanwhile is not known for sure, so every live part reads itself once.
    if (stream.opened) mark('stream');
    stream.opened = true;
    show(true);
  };
  es.onerror = function () {
    if (stream.open) mark('stream');  // just broke: read now, then poll until it is back
    show(false);
    if (es.readyState === 2) {
      // Refused (signed out, too many streams): the browser gives up on it; try again in a while.
      es.close();
      stream.es = null;
      clearTimeout(stream.retry);
      stream.retry = setTimeout(connect, 30000);
    }
  };
}
// A hidden page holds no stream (browsers open only a few connections per server); shown again, it reconnects
// and its live parts read themselves once.
document.addEventListener('visibilitychange', function () {
  if (!document.hidden) return connect();
  if (stream.es) { stream.es.close(); stream.es = null; }
});
async function loadTree(d) {
  d.dataset.loaded = '1';
  var box = d.querySelector(':scope > .children');
  var r = await fetch(d.dataset.tree, {credentials: 'same-origin'});
  box.innerHTML = r.ok ? await r.text() : '<p class="error">Could not load (HTTP ' + r.status + ')</p>';
}
document.addEventListener('toggle', function (ev) {
  var d = ev.target;
  if (d.matches && d.matches('details[data-tree]') && d.open && !d.dataset.loaded) loadTree(d);
}, true);
document.addEventListener('DOMContentLoaded', function () {
  if (document.querySelector('[data-poll][data-live]')) { show(false); connect(); }
  document.querySelectorAll('details[data-tree][open]').forEach(function (d) { if (!d.dataset.loaded) loadTree(d); });
  var ta = document.getElementById('c-script'), ids = sessionStorage.getItem('corral.campaign.ids');
  if (ta && ids) {
    sessionStorage.removeItem('corral.campaign.ids');
    ta.value = idsTemplate(JSON.parse(ids));
    ta.focus();
  }
});
document.addEventListener('change', function (ev) {
  var t = ev.target;
  if (t.matches('select[data-fill]')) {
    var opt = t.options[t.selectedIndex], target = document.getElementById(t.dataset.fill);
    if (target && opt && opt.dataset.source !== undefined) target.value = opt.dataset.source;
    var nm = t.form && t.form.elements.name;
    if (nm && opt && opt.value) nm.value = opt.value + '.lua';
  }
  if (t.matches('form[data-report] select[name="library"]')) {
    t.form.querySelectorAll('fieldset[data-args-for]').forEach(function (f) { var on = f.dataset.argsFor === t.value; f.hidden = !on; f.disabled = !on; });
    var ed = t.form.querySelector('[data-adhoc]');
    if (ed) { ed.hidden = t.value !== ''; ed.querySelector('textarea').disabled = t.value !== ''; }
  }
  if (t.matches('input[data-select-all]')) document.querySelectorAll('input[name="sel"]').forEach(function (c) { c.checked = t.checked; });
  if (t.matches('input[name="sel"], input[data-select-all]')) {
    var n = document.querySelectorAll('input[name="sel"]:checked').length, s = document.getElementById('selcount');
    if (s) s.textContent = n + ' selected';
  }
});
window.corral = {api: api, refreshAll: refreshAll};
})();
"""#
}
