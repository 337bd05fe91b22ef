// Renders templates with handlebars.js for engine/render's compatibility
// test: node compat.js cases.json prints a JSON array with, per case,
// {"output": "..."} or {"error": "..."}. node compat.js --lines does the
// same one case per line on stdin and stdout, for the differential fuzz.
//
// cases.json: {"partials": {"name": "source"}, "cases": [{"template": "...",
// "data": {...}}]}. Switchboard renders plain text, as handlebars.js does
// with noEscape; but noEscape has a bug: a program that starts with two
// values adds them ({{a}}{{b}} with 1 and 2 prints 3; its compiler joins
// the values with + and no "" in front). So templates compile with
// escaping on and an escape that changes nothing, which prints exactly
// what noEscape prints without that bug. The helpers mirror
// engine/render/helpers.go for the values the test feeds them (times and
// durations arrive as the text they print).
'use strict';

const fs = require('fs');
const Handlebars = require('handlebars');

const input = process.argv[2] === '--lines' ? null : JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const hb = Handlebars.create();

// The runtime reads escapeExpression from this shared module object each
// time a template runs. Same conversions as handlebars.js's own, no escaping.
hb.Utils.escapeExpression = (v) => {
  if (typeof v === 'string') return v;
  if (v && v.toHTML) return v.toHTML();
  return v == null ? '' : String(v);
};

// A time prints as "2006-01-02 15:04:05 MST"; helpers read it back.
function parseTime(v) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) (.*)$/.exec(String(v));
  if (!m) return null;
  return { y: +m[1], mo: +m[2], d: +m[3], h: +m[4], mi: +m[5], s: +m[6], zone: m[7] };
}

const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July',
  'August', 'September', 'October', 'November', 'December'];
const pad = (n, w) => String(n).padStart(w || 2, '0');
const namedLayouts = { date: '2006-01-02', time: '15:04:05', datetime: '2006-01-02 15:04:05' };

// The Go layout elements the compatibility corpus uses.
const layoutElements = [
  ['January', (t) => months[t.mo - 1]],
  ['Jan', (t) => months[t.mo - 1].slice(0, 3)],
  ['2006', (t) => pad(t.y, 4)],
  ['15', (t) => pad(t.h)],
  ['01', (t) => pad(t.mo)],
  ['02', (t) => pad(t.d)],
  ['03', (t) => pad(t.h % 12 === 0 ? 12 : t.h % 12)],
  ['04', (t) => pad(t.mi)],
  ['05', (t) => pad(t.s)],
  ['MST', (t) => t.zone],
  ['PM', (t) => (t.h >= 12 ? 'PM' : 'AM')],
  ['3', (t) => String(t.h % 12 === 0 ? 12 : t.h % 12)],
  ['2', (t) => String(t.d)],
];

function formatTime(v, layout, options) {
  if (v === null || v === undefined || v === '') return '';
  if (options.hash.tz) throw new Error('compat: tz is not mirrored');
  const t = parseTime(v);
  if (!t) return String(v);
  layout = namedLayouts[layout] || layout;
  let out = '';
  for (let i = 0; i < layout.length;) {
    const el = layoutElements.find(([k]) => layout.startsWith(k, i));
    if (el) {
      out += el[1](t);
      i += el[0].length;
    } else {
      out += layout[i];
      i += 1;
    }
  }
  return out;
}

function durationSeconds(v) {
  if (typeof v === 'number') return Math.trunc(v);
  const m = /^(-?)(?:(\d+)h )?(?:(\d+)m )?(\d+)s$/.exec(String(v));
  if (!m) return null;
  const s = (+(m[2] || 0)) * 3600 + (+(m[3] || 0)) * 60 + (+m[4]);
  return m[1] ? -s : s;
}

function formatDuration(v, style) {
  let s = v === null || v === undefined ? 0 : durationSeconds(v);
  if (s === null) return String(v);
  const sign = s < 0 ? '-' : '';
  s = Math.abs(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const sec = s % 60;
  switch (style) {
    case '':
    case 'short':
      if (h > 0) return `${sign}${h}h ${m}m ${sec}s`;
      if (m > 0) return `${sign}${m}m ${sec}s`;
      return `${sign}${sec}s`;
    case 'clock':
      return `${sign}${h}:${pad(m)}:${pad(sec)}`;
    case 'minutes':
      return String(Math.ceil((sign ? -s : s) / 60));
    case 'hours':
      return (Math.round(((sign ? -s : s) / 3600) * 100) / 100).toFixed(2);
    default:
      throw new Error(`formatDuration: unknown style ${style}`);
  }
}

// truthy is #if's test; isEmpty is #with's.
const truthy = (v) => !(!v || (Array.isArray(v) && v.length === 0));
const text = (v) => (v === null || v === undefined ? '' : String(v));
const asNumber = (v) => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return null;
};
function compare(a, b) {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : 0;
  const s = text(a);
  const t = text(b);
  return s < t ? -1 : s > t ? 1 : 0;
}
const chars = (s) => Array.from(s);

hb.registerHelper({
  formatTime,
  formatDuration,
  default: (v, fallback) => (truthy(v) ? v : fallback),
  eq: (a, b) => compare(a, b) === 0,
  ne: (a, b) => compare(a, b) !== 0,
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  and: (a, b) => truthy(a) && truthy(b),
  or: (a, b) => truthy(a) || truthy(b),
  not: (a) => !truthy(a),
  upper: (s) => text(s).toUpperCase(),
  lower: (s) => text(s).toLowerCase(),
  truncate: (s, n, options) => {
    const suffix = 'suffix' in options.hash ? text(options.hash.suffix) : '...';
    const c = chars(text(s));
    return c.length > n ? c.slice(0, Math.max(n, 0)).join('') + suffix : c.join('');
  },
  join: (list, sep) => (Array.isArray(list) ? list.map(text).join(sep) : text(list)),
  indent: (s, n) => text(s).split('\n').join('\n' + ' '.repeat(n)),
  pluralize: (v, word, options) => {
    const n = Array.isArray(v) ? v.length : v === null || v === undefined ? 0 : asNumber(v);
    return `${n} ${n === 1 ? word : options.hash.plural || word + 's'}`;
  },
  length: (v) => (typeof v === 'string' ? chars(v).length : Array.isArray(v) ? v.length : 0),
});

function renderCase(c) {
  try {
    return { output: hb.compile(c.template)(c.data) };
  } catch (e) {
    return { error: String(e.message || e) };
  }
}

if (input) {
  for (const [name, source] of Object.entries(input.partials || {})) {
    hb.registerPartial(name, source);
  }
  process.stdout.write(JSON.stringify(input.cases.map(renderCase)));
} else {
  // --lines: one JSON case per input line, one JSON result per output line;
  // a line {"partials": {...}} registers partials and gets no answer.
  require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
    const c = JSON.parse(line);
    if (c.partials) {
      for (const [name, source] of Object.entries(c.partials)) hb.registerPartial(name, source);
      return;
    }
    process.stdout.write(JSON.stringify(renderCase(c)) + '\n');
  });
}
