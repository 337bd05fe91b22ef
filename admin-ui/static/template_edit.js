// Switchboard template editor. The page works without this script (Preview
// and Save post the form); it adds:
// - a live preview while typing, against the chosen session;
// - the caret's line and column, and the caret put on a refused line.
// Every text from the server goes in with textContent, never as markup.
"use strict";

(function () {
  const form = document.getElementById("editor");
  const text = document.getElementById("text");
  if (!form || !text) {
    return;
  }
  const out = document.getElementById("preview-output");
  const lintBox = document.getElementById("preview-lint");
  const missing = document.getElementById("preview-missing");
  const failed = document.getElementById("preview-error");
  const lineError = document.getElementById("text-error");
  const pos = document.getElementById("text-pos");
  const none = document.getElementById("preview-none");
  const DELAY_MS = 300;
  let timer = 0;
  let seq = 0;
  let inflight = null;

  function lineCol(value, offset) {
    const before = value.slice(0, offset);
    const line = before.split("\n").length;
    return { line: line, column: offset - before.lastIndexOf("\n") };
  }

  function offsetOf(value, line, column) {
    let offset = 0;
    for (let i = 1; i < line; i++) {
      const next = value.indexOf("\n", offset);
      if (next < 0) {
        return value.length;
      }
      offset = next + 1;
    }
    return Math.min(offset + column - 1, value.length);
  }

  function showPos() {
    const lc = lineCol(text.value, text.selectionStart);
    pos.textContent = "Line " + lc.line + ", column " + lc.column;
  }

  function markLine(lint) {
    const field = text.closest(".field");
    if (!lint) {
      lineError.hidden = true;
      lineError.textContent = "";
      field.classList.remove("invalid");
      text.removeAttribute("aria-invalid");
      return;
    }
    lineError.textContent = "Line " + lint.line + ", column " + lint.column + ": " + lint.message;
    lineError.hidden = false;
    field.classList.add("invalid");
    text.setAttribute("aria-invalid", "true");
  }

  function show(answer) {
    markLine(answer.lint);
    failed.hidden = !answer.error;
    failed.textContent = answer.error || "";
    if (answer.lint || answer.error) {
      return; // keep the last good output in view
    }
    out.textContent = answer.output || "";
    out.hidden = false;
    none.hidden = true;
    missing.replaceChildren();
    (answer.missing || []).forEach(function (m) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = m;
      li.appendChild(code);
      missing.appendChild(li);
    });
    lintBox.hidden = !(answer.missing && answer.missing.length);
  }

  async function preview() {
    const mine = ++seq;
    if (inflight) {
      inflight.abort();
    }
    inflight = new AbortController();
    form.setAttribute("aria-busy", "true");
    try {
      const resp = await fetch("/templates/edit/preview", {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: inflight.signal,
      });
      let answer;
      try {
        answer = await resp.json();
      } catch (e) {
        answer = { error: "The server answered " + resp.status + " " + resp.statusText + "." };
      }
      if (mine === seq) {
        show(answer);
      }
    } catch (e) {
      if (e.name !== "AbortError" && mine === seq) {
        show({ error: "The preview could not reach Switchboard: " + e.message });
      }
    } finally {
      if (mine === seq) {
        form.removeAttribute("aria-busy");
      }
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, DELAY_MS);
  }

  text.addEventListener("input", schedule);
  document.getElementById("config").addEventListener("change", schedule);
  document.getElementById("lsid").addEventListener("change", schedule);
  ["keyup", "click", "select", "focus"].forEach(function (ev) {
    text.addEventListener(ev, showPos);
  });

  // A refused save: put the caret where the error is.
  const line = Number(text.dataset.line);
  if (line > 0) {
    const at = offsetOf(text.value, line, Number(text.dataset.column) || 1);
    text.focus();
    text.setSelectionRange(at, at);
    showPos();
  }
})();
