// capsim report: the part shared by every page. Reads the page's data block,
// offers the building blocks (sections, tables, fan charts, formats) to the
// page's own script, and tells whoever opens the page when it is complete:
// window.capsimReport = {ready, errors, charts}. Every dataset of a chart
// names the data it draws (capsimSource), so a test can check it against
// the file it came from.
'use strict';

const capsim = (() => {
  const state = { ready: false, errors: [], charts: {} };
  window.capsimReport = state;
  window.addEventListener('error', (e) => state.errors.push('error: ' + e.message));
  window.addEventListener('unhandledrejection', (e) => state.errors.push('rejected: ' + e.reason));
  document.addEventListener('securitypolicyviolation', (e) =>
    state.errors.push('blocked by the page policy: ' + e.violatedDirective + ' ' + e.blockedURI));

  const data = JSON.parse(document.getElementById('capsim-data').textContent);
  const main = document.getElementById('report');

  // --- elements ---------------------------------------------------------

  // el('p', {class: 'note', text: 'hi'}, [children...])
  function el(tag, attrs = {}, children = []) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of [].concat(children)) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function section(title, parent = main) {
    const s = el('section', {}, [el('h2', { text: title })]);
    parent.append(s);
    return s;
  }

  // A definition list of [term, value] rows; a value may be an element.
  function definitions(rows) {
    const dl = el('dl', { class: 'provenance' });
    for (const [term, value] of rows) dl.append(el('dt', { text: term }), el('dd', {}, [value]));
    return dl;
  }

  // A table from a header row and body rows of cells; a cell is text or
  // {text, value, source} (value and source become data- attributes, so the
  // number shown can be checked against the file).
  function table(header, rows, attrs = {}) {
    const t = el('table', attrs);
    t.append(el('thead', {}, [el('tr', {}, header.map((h) => el('th', { text: h })))]));
    const body = el('tbody');
    for (const row of rows) {
      body.append(
        el(
          'tr',
          {},
          row.map((c) =>
            typeof c === 'object' && c !== null
              ? el('td', { text: c.text, 'data-value': c.value, 'data-source': c.source })
              : el('td', { text: c })
          )
        )
      );
    }
    t.append(body);
    return t;
  }

  // Makes a table sortable by clicking its headers (numbers by value, texts
  // alphabetically; missing values last).
  function sortable(t) {
    t.classList.add('sortable');
    const headers = [...t.querySelectorAll('thead th')];
    headers.forEach((th, column) => {
      th.addEventListener('click', () => {
        const descending = th.classList.contains('asc');
        headers.forEach((h) => h.classList.remove('asc', 'desc'));
        th.classList.add(descending ? 'desc' : 'asc');
        const body = t.tBodies[0];
        const key = (tr) => {
          const td = tr.cells[column];
          const v = td.dataset.value;
          return v !== undefined && v !== '' ? Number(v) : td.textContent;
        };
        const rows = [...body.rows];
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const missing = (v) => v === '' || (typeof v === 'number' && Number.isNaN(v));
          if (missing(x) || missing(y)) return missing(x) - missing(y);
          const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return descending ? -order : order;
        });
        body.append(...rows);
      });
    });
    return t;
  }

  // --- numbers and units -------------------------------------------------

  // "1 path", "1,000 paths".
  function count(n, word, words = word + 's') {
    return `${n.toLocaleString('en-US')} ${n === 1 ? word : words}`;
  }

  function grouped(x, decimals) {
    return x.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  // Four significant digits, whole numbers with thousands separators.
  function readable(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
    const a = Math.abs(x);
    if (a >= 1e15 || (a > 0 && a < 1e-4)) return x.toExponential(3);
    if (a >= 1000) return grouped(x, 0);
    return String(Number(x.toPrecision(4)));
  }

  // How a unit is shown: money in millions, fractions in percent (as the
  // table of `capsim run`).
  function display(unit) {
    if (unit === 'USD') return { unit: 'M USD', scale: 1e-6, decimals: 1 };
    if (unit === 'USD per step') return { unit: 'M USD per step', scale: 1e-6, decimals: 3 };
    if (unit === 'fraction' || unit === '0/1' || unit === 'probability') return { unit: '%', scale: 100, decimals: 2 };
    if (unit === 'H100e-GPU-hours per step') return { unit: 'H100e-GPU-h per step', scale: 1, decimals: null };
    return { unit, scale: 1, decimals: null };
  }

  function shown(x, unit) {
    if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
    const d = display(unit);
    const v = x * d.scale;
    return d.decimals === null ? readable(v) : grouped(v, d.decimals);
  }

  function withUnit(x, unit) {
    const d = display(unit);
    return shown(x, unit) + (d.unit === '%' ? ' %' : ' ' + d.unit);
  }

  // --- charts -------------------------------------------------------------

  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#7f7f7f'];
  const color = (i) => palette[i % palette.length];
  function rgba(hex, alpha) {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }

  const DAY = 86400000;
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

  // Tick positions for dates, at most `room` of them: days or weeks for
  // spans under two months, else the first of every 1, 2, 3, 6, 12... months.
  function dateTicks(min, max, room) {
    const ticks = [];
    if (max - min < 62 * DAY) {
      const days = (max - min) / DAY;
      const step = DAY * ([1, 2, 7, 14, 28].find((d) => days / d <= room) || 28);
      for (let t = Math.ceil(min / DAY) * DAY; t <= max; t += step) ticks.push(t);
      return ticks;
    }
    const months = (max - min) / (30.44 * DAY);
    const every = [1, 2, 3, 6, 12, 24, 60].find((m) => months / m <= room) || 120;
    const start = new Date(min);
    for (let m = start.getUTCFullYear() * 12 + start.getUTCMonth(); ; ++m) {
      const t = Date.UTC(Math.floor(m / 12), m % 12, 1);
      if (t > max) break;
      if (t >= min && m % every === 0) ticks.push(t);
    }
    return ticks;
  }

  // An x axis of dates: values are milliseconds since 1970 (UTC), shown as
  // YYYY-MM (or YYYY-MM-DD for short spans).
  function timeAxis(ms) {
    const min = ms[0];
    const max = ms.length > 1 ? ms[ms.length - 1] : ms[0] + DAY;
    const long = max - min >= 62 * DAY;
    return {
      type: 'linear',
      min,
      max,
      title: { display: true, text: 'date (start of step, UTC)' },
      // One label per 80 pixels or so.
      afterBuildTicks: (axis) => {
        const room = Math.max(2, Math.floor((axis.width || 600) / 80));
        axis.ticks = dateTicks(min, max, room).map((value) => ({ value }));
      },
      ticks: { autoSkip: false, maxRotation: 0, callback: (v) => (long ? isoDay(v).slice(0, 7) : isoDay(v)) },
    };
  }

  // A y (or x) axis of values in `unit`, shown as display(unit) says.
  function valueAxis(title, unit, extra = {}) {
    const d = display(unit);
    return Object.assign(
      {
        type: 'linear',
        title: { display: true, text: `${title} (${d.unit})` },
        ticks: { callback: (v) => readable(v * d.scale) },
      },
      extra
    );
  }

  // A canvas in a figure appended to `parent`, and its chart. Charts are
  // drawn at once (no animation), so the page is complete when the script
  // ends.
  function chart(parent, id, config) {
    const canvas = el('canvas', { id, role: 'img', 'aria-label': config.options.plugins.title.text });
    parent.append(el('figure', { class: 'chart' }, [canvas]));
    config.options = Object.assign(
      { animation: false, responsive: true, maintainAspectRatio: true, aspectRatio: 2, normalized: true },
      config.options
    );
    try {
      state.charts[id] = new Chart(canvas, config);
    } catch (e) {
      state.errors.push(`chart ${id}: ${e.message}`);
    }
    return state.charts[id];
  }

  const legendOnlyMarked = {
    labels: { filter: (item, chartData) => chartData.datasets[item.datasetIndex].capsimLegend === true },
  };

  // A fan chart of series over time. Each group is one cell of a series of
  // data.series: its p05-p95 band, its p50 (solid, in the legend) and its
  // mean (dashed). `lines` are extra datasets (e.g. a budget).
  function fanChart(parent, id, o) {
    const ms = data.time.ms;
    const datasets = [];
    o.groups.forEach((g, gi) => {
      const s = data.series[g.series];
      const hue = g.color || color(gi);
      const points = (stat) => s.stats[stat][g.cell].map((y, i) => ({ x: ms[i], y }));
      const source = (stat) => ({ series: g.series, cell: g.cell, stat });
      const line = { pointRadius: 0, pointHitRadius: 4, fill: false, spanGaps: false };
      datasets.push(Object.assign({ label: `${g.label} p05`, data: points('p05'), borderWidth: 0, borderColor: 'transparent', capsimSource: source('p05') }, line));
      datasets.push(Object.assign({}, line, { label: `${g.label} p05-p95`, data: points('p95'), borderWidth: 0, borderColor: 'transparent', backgroundColor: rgba(hue, 0.2), fill: '-1', capsimSource: source('p95') }));
      datasets.push(Object.assign({ label: g.label, data: points('p50'), borderColor: hue, backgroundColor: hue, borderWidth: 2, capsimSource: source('p50'), capsimLegend: true }, line));
      datasets.push(Object.assign({ label: `${g.label} mean`, data: points('mean'), borderColor: hue, borderDash: [5, 4], borderWidth: 1.2, capsimSource: source('mean') }, line));
    });
    for (const l of o.lines || []) datasets.push(Object.assign({ pointRadius: 0, fill: false, capsimLegend: true }, l));
    const unit = data.series[o.groups[0].series].unit;
    return chart(parent, id, {
      type: 'line',
      data: { datasets },
      options: {
        parsing: false,
        aspectRatio: o.aspectRatio,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: { x: timeAxis(ms), y: valueAxis(o.yTitle, o.unit || unit, o.yOptions) },
        plugins: {
          title: { display: true, text: o.title, font: { size: 14 } },
          subtitle: { display: true, text: o.subtitle || bandNote() },
          legend: legendOnlyMarked,
          tooltip: {
            filter: (item) => item.dataset.capsimLegend === true,
            callbacks: {
              title: (items) => (items.length ? isoDay(items[0].parsed.x) : ''),
              label: (item) => `${item.dataset.label}: ${withUnit(item.parsed.y, o.unit || unit)}`,
            },
          },
        },
      },
    });
  }

  // How to read a fan chart.
  function bandNote() {
    const p = data.provenance.paths;
    const n = data.time.stride;
    const th = n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th';
    const every = n > 1 ? `; every ${n}${th} step` : '';
    return `line: median, dashed: mean, band: p05 to p95 of ${count(p, 'path')}${every}`;
  }

  // --- page frame ----------------------------------------------------------

  // The page header: title, subtitle, and a banner that tells a what-if
  // (any --set) from the scenario as written.
  function header(title, subtitle) {
    main.replaceChildren();
    main.append(el('h1', { text: title }), el('p', { class: 'subtitle', text: subtitle }));
    const overrides = data.provenance.overrides;
    if (overrides.length) {
      main.append(
        el('div', { class: 'banner', id: 'overrides' }, [
          el('strong', { text: `What-if: ${overrides.length} override${overrides.length > 1 ? 's' : ''} of the scenario file: ` }),
          el('code', { text: overrides.map((o) => `--set ${o}`).join(' ') }),
        ])
      );
    } else {
      main.append(el('div', { class: 'banner baseline', id: 'overrides', text: 'The scenario as written: no --set overrides.' }));
    }
  }

  // Provenance rows shared by every page.
  function provenanceRows() {
    const p = data.provenance;
    return [
      ['scenario', p.scenario_name],
      ['scenario file', p.scenario_file],
      ['extends', p.extends.length ? p.extends.join(', ') : 'nothing'],
      ['--set overrides', p.overrides.length ? p.overrides.map((o) => `--set ${o}`).join(' ') : 'none'],
      ['seed', p.seed],
      ['paths', p.paths.toLocaleString('en-US')],
    ];
  }

  function footer() {
    const p = data.provenance;
    main.append(
      el('footer', {
        text: `${p.file}: ${p.format} file written by capsim ${p.capsim_version} on ${p.created}; ` +
          `page by capsim ${p.report_capsim_version} with Chart.js ${Chart.version}. ` +
          'Self-contained: it loads nothing and works offline.',
      })
    );
  }

  // Marks the page complete once the browser has painted it.
  function finish() {
    requestAnimationFrame(() => requestAnimationFrame(() => {
      state.ready = true;
    }));
  }

  return {
    data, main, el, section, definitions, table, sortable, count, readable, display, shown, withUnit,
    color, rgba, isoDay, timeAxis, valueAxis, chart, fanChart, bandNote, legendOnlyMarked, header,
    provenanceRows, footer, finish, state,
  };
})();
