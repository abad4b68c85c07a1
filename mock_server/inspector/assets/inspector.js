// The inspector's live part and controls: an event stream says when something changed, the
// live fragment is fetched again (with the page's filters), and the controls call the admin API
// with JSON. Same-origin requests only; the session cookie (if any) goes with them.
(() => {
  const base = document.body.dataset.base;
  const live = document.getElementById("live");
  const liveStatus = document.getElementById("live-status");
  const notice = document.getElementById("notice");
  let updates = 0;
  let scheduled = null;

  async function refresh() {
    const open = [...live.querySelectorAll("details[id]")].map((d) => [d.id, d.open]);
    const answer = await fetch(`${base}/inspector/live${location.search}`);
    if (!answer.ok) {
      say(answer.status === 401 ? "signed out: reload the page to sign in" : `update failed: ${answer.status}`, false);
      return;
    }
    live.innerHTML = await answer.text();
    for (const [id, wasOpen] of open) {
      const details = document.getElementById(id);
      if (details) details.open = wasOpen;
    }
    updates += 1;
    document.body.dataset.updates = String(updates);
  }

  function schedule() {
    if (scheduled === null) scheduled = setTimeout(() => { scheduled = null; refresh(); }, 150);
  }

  function say(text, ok) {
    notice.textContent = text;
    notice.className = ok ? "ok" : "bad";
  }

  // A journal row's readable form is fetched when it is unfolded.
  live.addEventListener("toggle", async (event) => {
    const details = event.target;
    if (!details.open || !details.matches("details.entry[data-seq]")) return;
    const seq = Number(details.dataset.seq);
    const answer = await fetch(`${base}/journal?view=readable&since=${seq - 1}&limit=1`);
    const page = answer.ok ? await answer.json() : { entries: [] };
    details.querySelector("pre").textContent = page.entries.length
      ? JSON.stringify(page.entries[0], null, 2)
      : `entry #${seq} is no longer in the journal (${answer.status})`;
  }, true);

  const events = new EventSource(`${base}/inspector/events`);
  events.addEventListener("ready", (event) => {
    // Also on reconnecting: whatever changed while the stream was down is fetched.
    if (JSON.parse(event.data).state !== document.body.dataset.state) schedule();
    liveStatus.textContent = "live";
    liveStatus.classList.add("on");
    document.body.dataset.live = "yes";
  });
  events.addEventListener("change", (event) => {
    document.body.dataset.state = JSON.parse(event.data).state;
    schedule();
  });
  events.onerror = () => {
    liveStatus.textContent = "reconnecting…";
    liveStatus.classList.remove("on");
  };

  const bodies = {
    queue: (f) => ["/scenario/queue", { names: [f.scenario.value] }],
    default: (f) => ["/scenario", { name: f.scenario.value }],
    clock: (f) => ["/clock/advance", { seconds: Number(f.seconds.value) }],
    reset: (f) => ["/reset", { purchases: f.purchases.checked }],
  };

  async function post(path, text, done) {
    const answer = await fetch(base + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: text,
    });
    let data = {};
    try { data = await answer.json(); } catch { data = {}; }
    say(answer.ok ? done : `${path}: ${data.message || answer.status}`, answer.ok);
    if (answer.ok) schedule();
  }

  for (const form of document.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = form.dataset.action;
      if (action === "report") {
        const file = form.report.files[0];
        if (!file) return say("choose a report file (conformance ... --json PATH)", false);
        const name = encodeURIComponent(file.name);
        return post(`/inspector/reports?name=${name}`, await file.text(), `${file.name} uploaded`);
      }
      const [path, body] = bodies[action](form);
      return post(path, JSON.stringify(body), `${action}: done`);
    });
  }
})();
