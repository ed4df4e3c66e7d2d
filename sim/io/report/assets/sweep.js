// capsim report: the page of a sweep file (docs/report.md): for a chosen key
// figure, its response to each varied key (a scatter per key and a tornado
// of the swings), and the table of points.
'use strict';

(() => {
  const { data, el, section, definitions, table, chart, withUnit, shown, color } = capsim;
  const p = data.provenance;
  const axes = data.axes;
  const columns = data.columns;
  const n = data.points.length;
  const columnIndex = (name) => columns.findIndex((c) => c.name === name);

  capsim.header(
    `capsim report: sweep of ${p.scenario_name}`,
    `${p.points_done} of ${p.points} points (${p.method}${p.samples ? `, ${p.samples} samples` : ''}), ` +
      `${capsim.count(p.paths, 'path')} each, common random numbers`
  );
  capsim.main.append(
    definitions(
      capsim.provenanceRows().concat([
        ['varied keys', axes.map((a) => `${a.key}=${a.spec}`).join('; ')],
        ['method', p.method + (p.samples ? ` (${p.samples} samples)` : '')],
        ['points', `${p.points_done} of ${p.points} done${p.shard ? `, shard ${p.shard}` : ''}`],
        ['common random numbers', p.common_random_numbers],
        ['written by', `capsim ${p.capsim_version}, ${p.created}`],
      ])
    )
  );

  // --- the chosen key figure --------------------------------------------------
  const response = section('Response of a key figure to each varied key');
  const select = el('select', { id: 'metric' }, columns.map((c) => el('option', { value: c.name, text: c.name })));
  select.value = data.metric;
  response.append(el('div', { class: 'controls' }, [el('label', { for: 'metric', text: 'key figure: ' }), select]));
  const note = el('p', { class: 'note' });
  response.append(note);

  // Groups of points (row indices) by the value of axis a: one group per
  // distinct value when there are at most 10 (or the values are not all
  // numbers), else 5 groups of equal size by rank of the value.
  function groups(a) {
    const axis = axes[a];
    const distinct = [...new Set(axis.values)];
    const numeric = axis.numeric.every((x) => x !== null);
    if (distinct.length <= 10 || !numeric) {
      if (numeric) distinct.sort((x, y) => axis.numeric[axis.values.indexOf(x)] - axis.numeric[axis.values.indexOf(y)]);
      return distinct.map((v) => ({ label: v, rows: axis.values.flatMap((w, i) => (w === v ? [i] : [])) }));
    }
    const order = [...Array(n).keys()].sort((i, j) => axis.numeric[i] - axis.numeric[j] || i - j);
    return [0, 1, 2, 3, 4].map((b) => {
      const rows = order.slice(Math.floor((b * n) / 5), Math.floor(((b + 1) * n) / 5));
      return { label: `${axis.values[rows[0]]} to ${axis.values[rows[rows.length - 1]]}`, rows };
    });
  }

  // The swing of column c's mean over axis a: the lowest and the highest
  // group average, and the groups they belong to.
  function swing(a, c) {
    const means = groups(a)
      .map((g) => {
        const ys = g.rows.map((i) => data.stats.mean[c][i]).filter((y) => y !== null);
        return { label: g.label, y: ys.length ? ys.reduce((s, y) => s + y, 0) / ys.length : null };
      })
      .filter((g) => g.y !== null);
    if (!means.length) return null;
    const low = means.reduce((m, g) => (g.y < m.y ? g : m));
    const high = means.reduce((m, g) => (g.y > m.y ? g : m));
    return { low, high };
  }

  const scatterGrid = el('div', { class: 'grid' });
  response.append(el('h3', { text: 'Each point of the sweep: mean (dot) and p05, p95 (dashes)' }), scatterGrid);
  const scatters = axes.map((axis, a) => {
    const numeric = axis.numeric.every((x) => x !== null);
    const categories = [...new Set(axis.values)];
    const xOf = (i) => (numeric ? axis.numeric[i] : categories.indexOf(axis.values[i]));
    // Large values (a budget) in short form: 2.5B.
    const short = (v) => (Math.abs(v) >= 1e6 ? v.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 3 }) : capsim.readable(v));
    const x = numeric
      ? { type: 'linear', grace: '5%', title: { display: true, text: axis.key }, ticks: { callback: short } }
      : { type: 'linear', min: -0.5, max: categories.length - 0.5, title: { display: true, text: axis.key },
          afterBuildTicks: (scale) => { scale.ticks = categories.map((_, value) => ({ value })); },
          ticks: { autoSkip: false, callback: (v) => categories[v] } };
    return { a, xOf, x, chart: null };
  });

  const tornadoGrid = el('div', { class: 'grid wide' });
  response.append(el('h3', { text: 'Tornado: how far the key figure moves with each key' }), tornadoGrid);
  let tornado = null;

  function scatterSets(s, c) {
    const pts = (stat) => data.points.map((point, i) => ({ x: s.xOf(i), y: data.stats[stat][c][i], point }));
    const sets = [{
      label: 'mean', data: pts('mean'), backgroundColor: color(0), borderColor: color(0), pointRadius: 4,
      capsimSource: { axis: s.a, column: columns[c].name, stat: 'mean' }, capsimLegend: true,
    }];
    if (c !== 0)
      for (const stat of ['p05', 'p95'])
        sets.push({
          label: stat, data: pts(stat), borderColor: capsim.rgba(color(0), 0.6), pointStyle: 'line',
          pointRadius: 7, borderWidth: 2, capsimSource: { axis: s.a, column: columns[c].name, stat }, capsimLegend: stat === 'p05',
        });
    if (c !== 0) sets[1].label = 'p05 and p95';
    return sets;
  }

  function draw() {
    const c = columnIndex(select.value);
    const col = columns[c];
    const title = `${col.name} (${capsim.display(col.unit).unit})`;
    note.textContent = `${col.name}: ${col.description}. Each point ran the same random futures, so differences come from the varied values.`;
    for (const s of scatters) {
      const sets = scatterSets(s, c);
      if (s.chart) {
        s.chart.data.datasets = sets;
        s.chart.options.plugins.title.text = `${col.name} against ${axes[s.a].key}`;
        s.chart.options.scales.y = capsim.valueAxis(col.name, col.unit);
        s.chart.update();
        continue;
      }
      s.chart = chart(scatterGrid, `scatter-a${s.a}`, {
        type: 'scatter',
        data: { datasets: sets },
        options: {
          parsing: false,
          scales: { x: s.x, y: capsim.valueAxis(col.name, col.unit) },
          plugins: {
            title: { display: true, text: `${col.name} against ${axes[s.a].key}`, font: { size: 14 } },
            legend: capsim.legendOnlyMarked,
            tooltip: { callbacks: { label: (item) => `point ${item.raw.point}: ${item.dataset.label} ${withUnit(item.parsed.y, col.unit)}` } },
          },
        },
      });
    }

    const bars = axes
      .map((axis, a) => ({ a, key: axis.key, s: swing(a, c) }))
      .filter((b) => b.s !== null)
      .sort((u, v) => v.s.high.y - v.s.low.y - (u.s.high.y - u.s.low.y));
    const sets = [{
      label: `lowest to highest group mean of ${col.name}`,
      data: bars.map((b) => [b.s.low.y, b.s.high.y]),
      backgroundColor: capsim.rgba(color(1), 0.6), borderColor: color(1), borderWidth: 1,
      capsimSource: { tornado: col.name, axes: bars.map((b) => b.a) }, capsimLegend: true,
    }];
    const labels = bars.map((b) => b.key);
    const options = {
      indexAxis: 'y',
      aspectRatio: Math.max(3, 12 / Math.max(1, bars.length)),
      scales: { x: capsim.valueAxis(col.name, col.unit, { beginAtZero: false, grace: '5%' }), y: { title: { display: true, text: 'varied key' } } },
      plugins: {
        title: { display: true, text: `Swing of ${title} over each varied key`, font: { size: 14 } },
        subtitle: { display: true, text: 'bar: from the lowest to the highest mean over groups of points by the key\'s value (each distinct value, or five equal groups by rank)' },
        legend: capsim.legendOnlyMarked,
        tooltip: { callbacks: { label: (item) => { const b = bars[item.dataIndex].s; return `${withUnit(b.low.y, col.unit)} (${b.low.label}) to ${withUnit(b.high.y, col.unit)} (${b.high.label})`; } } },
      },
    };
    if (tornado) {
      tornado.data = { labels, datasets: sets };
      tornado.options.scales.x = options.scales.x;
      tornado.options.plugins.title.text = options.plugins.title.text;
      tornado.update();
    } else {
      tornado = chart(tornadoGrid, 'tornado', { type: 'bar', data: { labels, datasets: sets }, options });
    }
  }
  draw();
  select.addEventListener('change', draw);

  // --- the table of points ----------------------------------------------------
  const points = section('Points');
  points.append(el('p', { class: 'note', text: 'Means across each point\'s paths; click a header to sort.' }));
  const header = ['point'].concat(axes.map((a) => a.key), columns.map((c) => `${c.name} (${capsim.display(c.unit).unit})`));
  const rows = data.points.map((point, i) =>
    [{ text: String(point), value: point }].concat(
      axes.map((a) => (a.numeric[i] === null ? a.values[i] : { text: a.values[i], value: a.numeric[i] })),
      columns.map((c, j) => ({ text: shown(data.stats.mean[j][i], c.unit), value: data.stats.mean[j][i] === null ? '' : data.stats.mean[j][i] }))
    )
  );
  points.append(el('div', { class: 'scroll' }, [capsim.sortable(table(header, rows, { id: 'points-table' }))]));

  capsim.footer();
  capsim.finish();
})();
