// Switchboard admin UI. Every page works without this script; it adds:
// - the Test button's results in place, without leaving the form, with the
//   fields a failed check blames marked;
// - saving through fetch, so a refused save keeps everything typed
//   (secrets included) and shows the errors next to their fields;
// - a syntax check of JSON fields while typing;
// - Replace / Clear for secrets that are set;
// - times in the admin's own time zone (the page has them in UTC);
// - a page showing a delivery about to run reloads until it has run.
"use strict";

(function () {
  // A test may take up to 15 s on the server; allow for a slow network.
  const TEST_TIMEOUT_MS = 30000;

  function post(url, form, signal) {
    return fetch(url, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: signal,
    });
  }

  async function readJSON(resp) {
    try {
      return await resp.json();
    } catch (e) {
      return { error: "The server answered " + resp.status + " " + resp.statusText + "." };
    }
  }

  // Field errors ------------------------------------------------------------

  function setFieldError(input, message) {
    const field = input.closest(".field");
    const slot = document.getElementById(input.id + "-error");
    if (!field || !slot) {
      return false;
    }
    slot.textContent = message || "";
    slot.hidden = !message;
    field.classList.toggle("invalid", Boolean(message));
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
    return true;
  }

  function labelOf(input) {
    if (input.tagName === "FIELDSET") {
      const legend = input.querySelector("legend");
      return legend ? legend.firstChild.textContent.trim() : input.id;
    }
    const label = document.querySelector('label[for="' + input.id + '"]');
    return label ? label.firstChild.textContent.trim() : input.id;
  }

  // markFields sets or clears each field's message from byField, in the
  // order of the form, and hands each marked field's link and message to
  // each.
  function markFields(form, byField, each) {
    form.querySelectorAll(".field[data-field]").forEach(function (field) {
      const input = document.getElementById("f-" + field.dataset.field);
      const msg = byField.get(field.dataset.field) || "";
      if (!input || !setFieldError(input, msg) || !msg) {
        return;
      }
      const a = document.createElement("a");
      a.href = "#" + input.id;
      a.textContent = labelOf(input);
      each(a, msg);
    });
  }

  // showErrors puts each message under its field and lists them all, in
  // the order of the form, in the box above it.
  function showErrors(form, errors, message) {
    const byField = new Map();
    const wide = message ? [message] : [];
    (errors || []).forEach(function (e) {
      if (e.field && document.getElementById("f-" + e.field)) {
        byField.set(e.field, e.message);
      } else {
        wide.push(e.field ? e.field + ": " + e.message : e.message);
      }
    });
    const box = document.getElementById("form-errors");
    const list = box.querySelector("ul");
    list.replaceChildren();
    wide.forEach(function (text) {
      const li = document.createElement("li");
      li.textContent = text;
      list.append(li);
    });
    markFields(form, byField, function (a, msg) {
      const li = document.createElement("li");
      li.append(a, ": " + msg);
      list.append(li);
    });
    box.hidden = list.children.length === 0;
    if (!box.hidden) {
      box.focus();
    }
  }

  // markBlamed puts the Test's field errors next to their fields (clearing
  // earlier marks, and the box of an earlier refused save, which they
  // replace) and returns links to them for the Test results.
  function markBlamed(form, errors) {
    const byField = new Map();
    (errors || []).forEach(function (e) {
      if (e.field && !byField.has(e.field)) {
        byField.set(e.field, e.message);
      }
    });
    const box = document.getElementById("form-errors");
    if (box) {
      box.hidden = true;
    }
    const links = [];
    markFields(form, byField, function (a) {
      links.push(a);
    });
    if (links.length === 0) {
      return null;
    }
    const p = document.createElement("p");
    p.className = "blamed";
    p.setAttribute("data-blamed", "");
    p.append("Marked in the form: ");
    links.forEach(function (a, i) {
      p.append(i ? ", " : "", a);
    });
    return p;
  }

  // Saving ------------------------------------------------------------------

  function enhanceSave(form) {
    form.addEventListener("submit", async function (ev) {
      // The Test button submits to its own address; it is handled below.
      if (ev.submitter && ev.submitter.hasAttribute("data-test")) {
        return;
      }
      ev.preventDefault();
      const button = ev.submitter || form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const resp = await post(form.action, form);
        const body = await readJSON(resp);
        if (resp.ok && body.redirect) {
          window.location.assign(body.redirect);
          return;
        }
        showErrors(form, body.errors, body.error);
      } catch (e) {
        showErrors(form, [], "The save did not reach Switchboard: " + e.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  // Test button -------------------------------------------------------------

  function enhanceTest(form) {
    const button = form.querySelector("[data-test]");
    const region = document.getElementById("test-results");
    if (!button || !region) {
      return;
    }
    const output = region.querySelector("[data-test-output]");
    button.addEventListener("click", async function (ev) {
      ev.preventDefault();
      region.hidden = false;
      region.setAttribute("aria-busy", "true");
      output.replaceChildren(document.createTextNode("Testing… this takes up to 15 seconds."));
      button.disabled = true;
      const ctrl = new AbortController();
      const timer = setTimeout(function () { ctrl.abort(); }, TEST_TIMEOUT_MS);
      try {
        const resp = await post(button.dataset.test, form, ctrl.signal);
        const body = await readJSON(resp);
        if (resp.ok && typeof body.html === "string") {
          // The fragment is rendered and escaped by the server's templates.
          output.innerHTML = body.html;
          const blamed = markBlamed(form, body.errors);
          if (blamed) {
            output.prepend(blamed);
          }
        } else {
          output.replaceChildren(document.createTextNode(body.error || "The test could not run."));
        }
      } catch (e) {
        output.replaceChildren(document.createTextNode(
          e.name === "AbortError" ? "The test took too long and was stopped." : "The test did not reach Switchboard: " + e.message));
      } finally {
        clearTimeout(timer);
        region.setAttribute("aria-busy", "false");
        button.disabled = false;
        region.scrollIntoView({ block: "nearest" });
      }
    });
  }

  // JSON fields -------------------------------------------------------------

  function checkJSON(area) {
    const text = area.value.trim();
    if (text === "") {
      setFieldError(area, "");
      return;
    }
    try {
      JSON.parse(text);
      setFieldError(area, "");
    } catch (e) {
      setFieldError(area, "is not valid JSON: " + e.message);
    }
  }

  function enhanceJSON(area) {
    let timer = 0;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { checkJSON(area); }, 400);
    });
    area.addEventListener("blur", function () { checkJSON(area); });
  }

  // Secrets -----------------------------------------------------------------

  function enhanceSecret(input) {
    const replace = document.querySelector('[data-replace="' + input.id + '"]');
    const clear = document.getElementById(input.id + "-clear");
    if (!replace) {
      return;
    }
    input.hidden = true;
    replace.setAttribute("aria-expanded", "false");
    replace.addEventListener("click", function () {
      input.hidden = false;
      replace.setAttribute("aria-expanded", "true");
      if (clear) {
        clear.checked = false;
      }
      input.focus();
    });
    if (clear) {
      clear.addEventListener("change", function () {
        if (clear.checked) {
          input.value = "";
          input.hidden = true;
          replace.setAttribute("aria-expanded", "false");
        }
      });
    }
  }

  // Times and live pages -----------------------------------------------------

  const localFormat = new Intl.DateTimeFormat("en-US", {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    timeZoneName: "short",
  });

  function localTime(el) {
    const d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) {
      return;
    }
    const p = {};
    localFormat.formatToParts(d).forEach(function (part) { p[part.type] = part.value; });
    el.title = el.textContent;
    el.textContent = p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + " " + p.timeZoneName;
  }

  // A delivery queued or running finishes within moments; reload until the
  // page shows how it ended. Only while the page is in view.
  const REFRESH_MS = 1500;

  function refreshWhileLive() {
    setTimeout(function () {
      if (document.visibilityState === "visible") {
        location.reload();
      } else {
        document.addEventListener("visibilitychange", function () { location.reload(); }, { once: true });
      }
    }, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("time[data-local]").forEach(localTime);
    if (document.querySelector("[data-refresh]")) {
      refreshWhileLive();
    }
    document.querySelectorAll("form[data-config-form]").forEach(function (form) {
      enhanceSave(form);
      enhanceTest(form);
    });
    document.querySelectorAll("textarea[data-json]").forEach(enhanceJSON);
    document.querySelectorAll("input[data-secret-set]").forEach(enhanceSecret);
  });
})();
