// qorgau console: the dashboard's charts (docs/console.md). An ES module,
// served as it is; uPlot (web/vendor/uplot-1.6.32, MIT) draws them. The
// figures come from /console/statistics.json, the same as GET
// /v1/statistics; the tables beside the charts say the totals in words.
import uPlot from "/assets/vendor/uplot-1.6.32/uPlot.esm.js";

const COLOURS = ["#1d6b35", "#a4161a", "#0b5cad", "#b7791f", "#6f42c1", "#2f7f8f", "#8a5a00", "#4a5561",
                 "#c2185b", "#00796b", "#5d4037", "#303f9f", "#7b1fa2"];

// Days as YYYY-MM-DD: the same in every language.
const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

function series(el, data) {
  if (el.dataset.chart === "consents") {
    return [
      [el.dataset.labelGranted, data.days.map((d) => d.granted)],
      [el.dataset.labelWithdrawn, data.days.map((d) => d.withdrawn)],
    ];
  }
  const names = JSON.parse(el.dataset.reasons);
  const codes = Object.keys(names).filter((c) => data.days.some((d) => d.decisions[c]));
  return codes.map((c) => [names[c], data.days.map((d) => d.decisions[c] || 0)]);
}

async function draw(el) {
  const started = performance.now();
  const answer = await fetch(el.dataset.src, { credentials: "same-origin" });
  if (!answer.ok) {
    el.dataset.state = "failed";
    return;
  }
  const data = await answer.json();
  const xs = data.days.map((d) => Date.parse(d.day + "T00:00:00Z") / 1000);
  const ys = series(el, data);
  const options = {
    width: Math.max(320, el.clientWidth || 640),
    height: 240,
    scales: { x: { time: true } },
    axes: [{ values: (u, vals) => vals.map(day) }, {}],
    series: [{ value: (u, v) => (v == null ? "" : day(v)) },
             ...ys.map(([label], i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
  };
  new uPlot(options, [xs, ...ys.map(([, values]) => values)], el);
  el.dataset.state = "drawn";
  el.dataset.points = String(xs.length);
  el.dataset.ms = String(Math.round(performance.now() - started));
}

for (const el of document.querySelectorAll("[data-chart]")) draw(el);

// Filing an application: the SHA-256 of a document chosen on the page,
// computed here (the file is never sent), into its digest field. Web
// Crypto needs a secure context (HTTPS, or localhost); elsewhere the
// digest is typed in.
async function digest(input) {
  const target = document.getElementById(input.dataset.digestFor);
  const file = input.files && input.files[0];
  if (!target || !file || !(globalThis.crypto && crypto.subtle)) return;
  const hash = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  target.value = Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
  target.dispatchEvent(new Event("change"));
}

for (const input of document.querySelectorAll("input[data-digest-for]")) {
  input.addEventListener("change", () => digest(input));
}
