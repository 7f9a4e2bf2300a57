// The web monitor of rialto-server-manager: one EventSource on /api/events. `monitor` events
// (SPEC 4: the state list, then lifecycle events) drive the timeline and the state column at
// once; `apps` events (every second) bring pids, memory, CPU and the media reports.

const TIMELINE_LIMIT = 300;
const CHART_POINTS = 60;

/** @type {Map<string, {row: HTMLTableRowElement, history: Array<Record<string, number>>}>} */
const apps = new Map();
let controlEnabled = false;

const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

function tokenFromHash() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match === null) return;
  sessionStorage.setItem("rialto-token", decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname);
}

function token() {
  return /** @type {HTMLInputElement} */ ($("#token")).value.trim();
}

async function act(appId, action) {
  const result = $("#control-result");
  result.textContent = `${action} ${appId}…`;
  const response = await fetch(`/api/apps/${encodeURIComponent(appId)}/${action}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token()}` },
  });
  const body = await response.text();
  result.textContent = response.ok
    ? `${action} ${appId}: ok`
    : `${action} ${appId}: ${body.trim()}`;
}

function cell(row, name) {
  return /** @type {HTMLElement} */ (row.querySelector(`[data-field="${name}"]`));
}

function ensureApp(appId) {
  let entry = apps.get(appId);
  if (entry !== undefined) return entry;
  const row = document.createElement("tr");
  row.dataset.app = appId;
  for (const field of ["app", "state", "pid", "memory", "cpu", "clients", "playback", "actions"]) {
    const td = document.createElement("td");
    td.dataset.field = field;
    row.append(td);
  }
  cell(row, "app").textContent = appId;
  cell(row, "state").className = "state";
  const playback = document.createElement("div");
  playback.className = "playback";
  cell(row, "playback").append(playback);
  const canvas = document.createElement("canvas");
  canvas.width = 150;
  canvas.height = 40;
  canvas.hidden = true;
  const numbers = document.createElement("div");
  numbers.className = "numbers";
  playback.append(canvas, numbers);
  const actions = cell(row, "actions");
  actions.className = "actions";
  for (const action of ["activate", "deactivate", "stop"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action;
    button.dataset.action = action;
    button.hidden = !controlEnabled;
    button.addEventListener("click", () => act(appId, action));
    actions.append(button);
  }
  $("#apps tbody").append(row);
  entry = { row, history: [] };
  apps.set(appId, entry);
  updateCount();
  return entry;
}

function removeApp(appId) {
  apps.get(appId)?.row.remove();
  apps.delete(appId);
  updateCount();
}

function updateCount() {
  $("#app-count").textContent = String(apps.size);
  $("#no-apps").hidden = apps.size > 0;
}

function setState(appId, state) {
  const stateCell = cell(ensureApp(appId).row, "state");
  stateCell.textContent = state;
  stateCell.dataset.state = state;
}

function addTimeline(message) {
  const item = document.createElement("li");
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = new Date().toLocaleTimeString();
  const event = document.createElement("span");
  event.className = "event";
  event.textContent = message.event;
  item.dataset.app = message.appId;
  item.dataset.event = message.event;
  item.append(time, message.appId, event, message.state ?? "");
  const list = $("#timeline");
  list.prepend(item);
  while (list.children.length > TIMELINE_LIMIT) list.lastElementChild?.remove();
}

function onMonitor(message) {
  if (message.type === "client_state") {
    setState(message.appId, message.state);
    return;
  }
  if (message.type !== "client_event") return;
  addTimeline(message);
  if (message.event === "removed") removeApp(message.appId);
  else if (message.event === "state_changed" && message.state !== undefined) {
    setState(message.appId, message.state);
  } else if (message.event === "start_request") ensureApp(message.appId);
}

function mebibytes(bytes) {
  return bytes === undefined ? "" : `${(bytes / 1048576).toFixed(1)} MiB`;
}

function onApps({ apps: views, control }) {
  if (control !== controlEnabled) {
    controlEnabled = control;
    $("#control").hidden = !control;
    for (const button of document.querySelectorAll("button[data-action]")) {
      /** @type {HTMLButtonElement} */ (button).hidden = !control;
    }
  }
  const seen = new Set();
  for (const view of views) {
    seen.add(view.appId);
    const entry = ensureApp(view.appId);
    const { row } = entry;
    setState(view.appId, view.state);
    cell(row, "pid").textContent = view.pid === undefined ? "" : String(view.pid);
    cell(row, "memory").textContent = mebibytes(view.rssBytes);
    cell(row, "cpu").textContent = view.cpuPercent === undefined ? "" : `${view.cpuPercent} %`;
    cell(row, "clients").textContent = view.stats ? String(view.stats.clients) : "";
    showPlayback(entry, view.stats?.pipelines?.[0]);
  }
  for (const appId of [...apps.keys()]) if (!seen.has(appId)) removeApp(appId);
}

function showPlayback(entry, pipeline) {
  const playback = cell(entry.row, "playback");
  const canvas = /** @type {HTMLCanvasElement} */ (playback.querySelector("canvas"));
  const numbers = /** @type {HTMLElement} */ (playback.querySelector(".numbers"));
  if (pipeline === undefined) {
    canvas.hidden = true;
    numbers.textContent = "";
    entry.history = [];
    delete entry.row.dataset.framesRendered;
    delete entry.row.dataset.framesDropped;
    return;
  }
  let rendered = 0;
  let dropped = 0;
  for (const source of pipeline.sources) {
    rendered += source.renderedFrames;
    dropped += source.droppedFrames;
  }
  const position = pipeline.positionNs / 1e9;
  const last = entry.history.at(-1);
  entry.history.push({
    position,
    frames: rendered,
    // Frames rendered and dropped since the previous report (0 for the first one).
    renderedStep: last === undefined ? 0 : Math.max(0, rendered - last.frames),
    droppedStep: last === undefined ? 0 : Math.max(0, dropped - last.dropped),
    dropped,
  });
  if (entry.history.length > CHART_POINTS) entry.history.shift();
  entry.row.dataset.framesRendered = String(rendered);
  entry.row.dataset.framesDropped = String(dropped);
  numbers.replaceChildren(
    line([
      ["", `${pipeline.state} `],
      ["legend-position", `${position.toFixed(2)} s`],
    ]),
    line([["legend-frames", `${rendered} rendered`]]),
    line([["legend-dropped", `${dropped} dropped`]]),
  );
  canvas.hidden = false;
  drawChart(canvas, entry.history);
}

/** One line of coloured spans. */
function line(parts) {
  const div = document.createElement("div");
  for (const [className, text] of parts) {
    const span = document.createElement("span");
    if (className !== "") span.className = className;
    span.textContent = text;
    div.append(span);
  }
  return div;
}

/**
 * Bars: frames rendered (green) and dropped (red) per report; line: the position (blue). The x
 * axis fills up to CHART_POINTS reports, then scrolls.
 */
function drawChart(canvas, history) {
  const context = canvas.getContext("2d");
  if (context === null) return;
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  const slots = Math.max(history.length, 12);
  const slot = (width - 4) / slots;
  const maxStep = Math.max(1, ...history.map((p) => p.renderedStep + p.droppedStep));
  history.forEach((point, i) => {
    const x = 2 + i * slot;
    const rendered = (point.renderedStep / maxStep) * (height - 4);
    const dropped = (point.droppedStep / maxStep) * (height - 4);
    context.fillStyle = "#86efac";
    context.fillRect(x, height - 2 - rendered, Math.max(1, slot - 1), rendered);
    context.fillStyle = "#f87171";
    context.fillRect(x, height - 2 - rendered - dropped, Math.max(1, slot - 1), dropped);
  });
  const maxPosition = Math.max(1, ...history.map((p) => p.position));
  context.strokeStyle = "#2563eb";
  context.lineWidth = 2;
  context.beginPath();
  history.forEach((point, i) => {
    const x = 2 + i * slot + slot / 2;
    const y = height - 2 - (point.position / maxPosition) * (height - 4);
    if (i === 0) context.moveTo(x, y);
    else context.lineTo(x, y);
  });
  context.stroke();
}

function connect() {
  const connection = $("#connection");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    // A reconnect starts with a fresh state list: forget what the last stream said.
    for (const appId of [...apps.keys()]) removeApp(appId);
    connection.textContent = "live";
    connection.dataset.state = "live";
  });
  source.addEventListener("error", () => {
    connection.textContent = "reconnecting";
    connection.dataset.state = "lost";
  });
  source.addEventListener("monitor", (event) => onMonitor(JSON.parse(event.data)));
  source.addEventListener("apps", (event) => onApps(JSON.parse(event.data)));
}

tokenFromHash();
/** @type {HTMLInputElement} */ ($("#token")).value = sessionStorage.getItem("rialto-token") ?? "";
$("#token").addEventListener("change", () => sessionStorage.setItem("rialto-token", token()));
$("#start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const appId = /** @type {HTMLInputElement} */ ($("#start-app")).value.trim();
  if (appId !== "") act(appId, "start");
});
updateCount();
connect();
